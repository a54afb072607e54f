"""Orders from photos and faxes: image → order Draft (see shared/contracts/extraction.md).

    ocr.pipeline.draft_from_image(path_or_bytes, *, today, catalog) -> Draft
    ocr.jobs.run_ocr_job(image_bytes, today, catalog) -> dict   (never raises; for the queue)
    ocr.errors.ImageRejected                                    (code + 中文/English message)

The path: loading (size, signature and pixel guards; EXIF) → preprocess (flatten a
photographed sheet, deskew, fax specks, resize) → engine (rapidocr or paddleocr, chosen
by ORDERBOT_OCR_ENGINE, loaded once per process) → orientation (pages turned without
EXIF) → layout (rows, the items table found by its header, labelled fields, decoys) →
lines + repair (text nlp reads) → nlp.extract_draft, with OCR scores folded into each
item's confidence, `field_confidence` and `to_confirm`.

Scoring on rendered forms (python -m ocr.testforms; bench/ocr.py does all of it):

    .venv/bin/python -m ocr.testforms /tmp/forms --n 24 --seed 7
    .venv/bin/orderbot extract --catalog ../shared/eval/catalog.csv \\
        < /tmp/forms/requests.jsonl > /tmp/forms/drafts.jsonl
    .venv/bin/python ../shared/eval/score_extraction.py /tmp/forms/labelled.jsonl \\
        /tmp/forms/drafts.jsonl --show-errors
"""
