"""Delivery dates written in English or corrected in the same message, deadlines in
weeks, and questions (price with freight, holidays) that order nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 9, 8)  # a Tuesday


def read(text: str, catalog: Catalog | None = None):
    return extract_draft(text, TODAY, catalog or Catalog([]))


@pytest.mark.parametrize(
    "text,date",
    [
        ("hex nut M6 2 cartons, need it Thursday next week", "2026-09-17"),
        ("hex nut M6 2 cartons, deliver next Mon", "2026-09-14"),
        ("hex nut M6 2 cartons by end of month", "2026-09-30"),
        ("hex nut M6 2 cartons, must arrive before October 9th", "2026-10-09"),
        ("hex nut M6 2 cartons delivery 21 Sep", "2026-09-21"),
        ("hex nut M6 2 cartons, please ship today", "2026-09-08"),
        ("M6螺母 两箱 两个礼拜内送到就行", "2026-09-22"),
        ("M6螺母 两箱 下周一送。抱歉记错了，下周三送", "2026-09-16"),
        ("M6螺母 两箱 15号到 —— 更正一下 18号到", "2026-09-18"),
    ],
)
def test_delivery_dates(text: str, date: str) -> None:
    assert read(text).delivery_date == date


@pytest.mark.parametrize(
    "text",
    [
        "麻烦报价：M8*30外六角 2000个，发到无锡新吴区，含运费一共多少？",
        "中秋放几天假啊？我们月底要备一批货到合肥",
        "你们国庆最后一天发货是哪天？要提前囤点货去南昌",
    ],
)
def test_questions_order_nothing_and_name_no_address(text: str, catalog: Catalog) -> None:
    draft = read(text, catalog)
    assert (draft.items, draft.address, draft.rush) == ([], None, False)
