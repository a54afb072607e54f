"""English and mixed purchase orders, read through the trade vocabulary."""

from __future__ import annotations

from nlp import extract_draft
from nlp.english import english_to_trade


def test_english_po_lines(catalog, wednesday):
    d = extract_draft("socket cap screw M6x20 SS316 500pcs, spring washer M6 SS304 500pcs, ETA 5/20", wednesday, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("SH-M6X20-316", 500), ("SW-M6-304", 500)]
    assert d.delivery_date == "2026-05-20"


def test_grade_and_qty_words(catalog, wednesday):
    d = extract_draft("PO: hex bolt M10x40 grade 8.8 qty 300 pcs; hex nuts M10 zinc plated 300pcs", wednesday, catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M10X40-88", 300), ("HN-M10-ZN", 300)]


def test_chinese_text_is_untouched():
    assert english_to_trade("M8螺母 镀锌 500个") == "M8螺母 镀锌 500个"
    assert "轴承" in english_to_trade("6204-2RS Bearings x20")


def test_before_month_day(catalog, wednesday):
    d = extract_draft("need 5000 pcs hex nut M6 stainless 304, deliver before 3/18", wednesday, catalog)
    assert d.delivery_date == "2026-03-18" and [(i.sku, i.quantity) for i in d.items] == [("HN-M6-304", 5000)]
