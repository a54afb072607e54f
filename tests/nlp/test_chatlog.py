"""Pasted chat logs and quotes: only what is ordered today is read."""

from __future__ import annotations

import datetime as dt

from nlp import extract_draft

TODAY = dt.date(2026, 3, 24)


def _skus(d):
    return [(i.sku, i.quantity) for i in d.items]


def test_earlier_days_messages_in_a_pasted_log_are_not_ordered_again(catalog):
    text = (
        "老周 2026-03-20 09:12\nM8螺母 镀锌 2000个 明天发\n"
        "老周 2026-03-24 10:02\nM10螺母 镀锌 1000个 周五到"
    )
    d = extract_draft(text, TODAY, catalog)
    assert _skus(d) == [("HN-M10-ZN", 1000)]
    assert d.delivery_date == "2026-03-27"


def test_a_log_that_is_all_from_earlier_days_is_still_read(catalog):
    d = extract_draft("老周 2026-03-20 09:12\nM8螺母 镀锌 2000个", TODAY, catalog)
    assert _skus(d) == [("HN-M8-ZN", 2000)]


def test_speaker_lines_are_not_contacts(catalog):
    text = "客户 潘工 08:41\n要 M6法兰螺母 304 3000个\n客户 潘工 08:42\n发到 无锡市新吴区 长江路 21号 13506181234"
    d = extract_draft(text, TODAY, catalog)
    assert d.contact != "客户"
    assert _skus(d) == [("FN-M6-304", 3000)]


def test_a_quoted_earlier_message_is_not_taken(catalog):
    for quote in ("「陈工：M6*16内六角 304 两千个」\n- - - - - - -\n", "引用 陈工 的消息：M6*16内六角 304 两千个\n"):
        d = extract_draft(quote + "这次要 M6*20 内六角 316的 一千个", TODAY, catalog)
        assert _skus(d) == [("SH-M6X20-316", 1000)], quote
        assert d.contact is None
