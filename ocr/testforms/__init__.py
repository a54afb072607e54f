"""Rendered order forms with labels, for tests, the scorer and bench/ocr.py.

`content` draws an order (catalog products, contact, address, dates) and its
labels in the extraction contract's format; `render` lays it out in one of several
templates; `damage` turns the page into a scan, a phone photo or a fax;
`python -m ocr.testforms` writes a requests JSONL and a labelled JSONL.
"""
