"""A second, independent order-form renderer (content, layout, fonts, damage) whose forms were
labelled and scored once blind before the OCR was tuned; see README.md in this folder."""
