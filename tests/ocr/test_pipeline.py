"""Image → Draft end to end on rendered forms (real OCR, ~1 s per image)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from PIL import Image

from ocr.engine import TextBox
from ocr.errors import ImageRejected, RejectCode
from ocr.jobs import run_ocr_job
from ocr.layout import analyse
from ocr.pipeline import draft_from_image, draft_from_layout
from ocr.testforms.generate import generate

from .test_loading import png_bomb

# One form per template, each damaged differently and drawn in a different font.
FORMS = [("bordered", "fax"), ("grid", "photo"), ("plain", "scan"), ("invoice", "fax")]


@pytest.fixture(scope="module")
def forms(tmp_path_factory, fonts, catalog_csv):
    out = tmp_path_factory.mktemp("forms")
    cases = []
    for k, (template, kind) in enumerate(FORMS):
        cases += generate(out, catalog_csv, n=1, seed=40 + k, templates=(template,),
                          kinds=(kind,), fonts=(fonts[k % len(fonts)],))
    return cases


@pytest.fixture(scope="module")
def drafts(forms, catalog, ocr_engine):
    return [draft_from_image(c.image, today=dt.date.fromisoformat(c.today), catalog=catalog,
                             engine=ocr_engine).to_dict() for c in forms]


def _items(d):
    return sorted((i["sku"], float(i["quantity"]), i["unit"]) for i in d["items"] if i["sku"])


def test_rendered_forms_read_back_as_their_labels(forms, drafts):
    right = total = 0
    failures = []
    for case, draft in zip(forms, drafts, strict=True):
        want = case.expect
        checks = {
            "items": _items(want) == _items(draft),
            "phone": want["phone"] == draft["phone"],
            "contact": want["contact"] == draft["contact"],
            "delivery_date": want["delivery_date"] == draft["delivery_date"],
            "rush": want["rush"] == draft["rush"],
            "city": want["address"]["city"] == (draft["address"] or {}).get("city"),
        }
        right += sum(checks.values())
        total += len(checks)
        failures += [f"{case.template}/{case.kind}: {k}" for k, ok in checks.items() if not ok]
    assert right / total >= 0.9, failures


def test_a_fax_gives_its_phone_and_delivery_date_exactly(forms, drafts):
    for case, draft in zip(forms, drafts, strict=True):
        if case.kind == "fax":
            assert draft["phone"] == case.expect["phone"]
            assert draft["delivery_date"] == case.expect["delivery_date"]


def test_drafts_carry_ocr_confidence(drafts):
    for d in drafts:
        assert d["source"] == "ocr"
        assert all(0 < i["confidence"] <= 1 for i in d["items"])
        assert set(d["field_confidence"]) <= {"company", "contact", "phone", "address",
                                              "delivery_date"}
        assert all(0 < v <= 1 for v in d["field_confidence"].values())


def test_bad_inputs_raise_image_rejected(catalog, ocr_engine):
    for data, code in ((png_bomb(), RejectCode.too_many_pixels),
                       (b"%PDF-1.4 not an image", RejectCode.not_an_image)):
        with pytest.raises(ImageRejected) as info:
            draft_from_image(data, today=dt.date(2026, 3, 1), catalog=catalog, engine=ocr_engine)
        assert info.value.code == code


def _box(text, x, y, score):
    return TextBox(text, score, ((x, y), (x + 27 * len(text), y), (x + 27 * len(text), y + 30),
                                 (x, y + 30)))


def _layout(phone_score: float, qty_score: float = 0.99):
    return analyse([
        _box("联系人：张工", 100, 100, 0.99), _box("手机：13812345678", 600, 100, phone_score),
        _box("收货地址：江苏省常州市武进区湖塘镇长虹路88号", 100, 150, 0.98),
        _box("交货日期：2026-03-11", 100, 200, 0.99),
        _box("品名", 100, 300, 0.99), _box("数量", 600, 300, 0.99),
        _box("外六角螺栓M6×20 304不锈钢", 100, 360, 0.99), _box("5000", 600, 360, qty_score),
    ])


def test_confident_reading_needs_no_confirmation(catalog):
    d = draft_from_layout(_layout(0.99), today=dt.date(2026, 3, 1), catalog=catalog)
    assert d.phone == "13812345678" and d.contact == "张工"
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M6X20-304", 5000)]
    assert d.to_confirm == [] and d.missing == []


def test_doubtful_fields_are_flagged_and_unreadable_ones_asked_for(catalog):
    doubtful = draft_from_layout(_layout(0.7, qty_score=0.6), today=dt.date(2026, 3, 1),
                                 catalog=catalog)
    flagged = {c["field"] for c in doubtful.to_confirm}
    assert doubtful.phone == "13812345678" and "phone" in flagged and "items[0]" in flagged
    assert doubtful.items[0].confidence < 0.85
    unreadable = draft_from_layout(_layout(0.3), today=dt.date(2026, 3, 1), catalog=catalog)
    assert unreadable.phone is None and "phone" in unreadable.missing


def test_the_ocr_job_returns_a_draft_or_a_coded_error(forms, drafts, catalog):
    # The job takes bytes (a download, an upload) and reads them like the file.
    ok = run_ocr_job(forms[2].image.read_bytes(), dt.date.fromisoformat(forms[2].today), catalog)
    assert ok["ok"] and "to_confirm" in ok["draft"]
    assert _items(ok["draft"]) == _items(drafts[2]) and ok["draft"]["phone"] == drafts[2]["phone"]
    json.dumps(ok, ensure_ascii=False)                     # queue-safe
    bomb = run_ocr_job(png_bomb(), dt.date(2026, 3, 1), catalog)
    assert bomb == {"ok": False, "error": bomb["error"]}
    assert bomb["error"]["code"] == "too_many_pixels" and bomb["error"]["message_zh"]
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), "white").save(buf, format="JPEG")
    cut = run_ocr_job(buf.getvalue()[:300], dt.date(2026, 3, 1), catalog)
    assert cut["error"]["code"] == "truncated"


@pytest.mark.parametrize("turn", ["ROTATE_90_CLOCKWISE", "ROTATE_180"])
def test_a_page_photographed_sideways_or_upside_down_is_turned(forms, drafts, catalog, ocr_engine,
                                                                turn):
    import cv2

    from ocr.loading import load_page

    page = load_page(forms[2].image, max_bytes=10**8, max_pixels=10**8)
    buf = io.BytesIO()
    Image.fromarray(cv2.rotate(page, getattr(cv2, turn))).save(buf, format="PNG")   # no EXIF
    d = draft_from_image(buf.getvalue(), today=dt.date.fromisoformat(forms[2].today),
                         catalog=catalog, engine=ocr_engine).to_dict()
    assert _items(d) == _items(drafts[2]) and d["phone"] == drafts[2]["phone"]


def test_a_page_with_no_text_gives_an_empty_draft_asking_for_everything(catalog):
    d = draft_from_layout(analyse([]), today=dt.date(2026, 3, 1), catalog=catalog).to_dict()
    assert d["items"] == [] and d["missing"] == ["items", "phone", "address", "delivery_date"]
