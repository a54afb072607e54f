"""Orders from photos and faxes: image → order Draft (see shared/contracts/extraction.md).

    ocr.pipeline.draft_from_image(path_or_bytes, *, today, catalog) -> Draft
    ocr.jobs.run_ocr_job(image_bytes, today, catalog) -> dict   (never raises)
    ocr.errors.ImageRejected                                    (code + 中文/English message)

Modules: loading (guards), preprocess (deskew, denoise, resize), engine (rapidocr or
paddleocr, chosen by ORDERBOT_OCR_ENGINE, loaded once), layout (rows, table, fields),
pipeline (→ nlp), jobs (for the queue), testforms (labelled rendered forms).
"""
