"""A rep's words → one command."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.wecom_parse import Confirm, Edit, Help, Inquiry, Reassign, Reject, Todo, parse_command

TODAY = dt.date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("确认 SO20260302-0001", Confirm("SO20260302-0001")),
        ("确认so20260302-0001", Confirm("SO20260302-0001")),
        ("拒绝 SO20260302-0001 缺货，下月再说", Reject("SO20260302-0001", "缺货，下月再说")),
        ("拒绝 SO20260302-0001", Reject("SO20260302-0001", "")),
        ("改 SO20260302-0001 交期 3月9日", Edit("SO20260302-0001", "delivery_date", "3月9日", dt.date(2026, 3, 9))),
        ("改 SO20260302-0001 交期 3/9", Edit("SO20260302-0001", "delivery_date", "3/9", dt.date(2026, 3, 9))),
        ("修改 SO20260302-0001 交期 下周三", Edit("SO20260302-0001", "delivery_date", "下周三", dt.date(2026, 3, 11))),
        ("改 SO20260302-0001 交期 2月1日", Edit("SO20260302-0001", "delivery_date", "2月1日", None)),
        ("改 SO20260302-0001 电话 13912345678", Edit("SO20260302-0001", "phone", "13912345678")),
        ("转 SO20260302-0001 李四", Reassign("SO20260302-0001", "李四")),
        ("转交 SO20260302-0001 给 王五", Reassign("SO20260302-0001", "王五")),
        ("待办", Todo()),
        ("帮助", Help()),
        ("确认", Help()),
        ("确认 SO123", Help()),
    ],
)
def test_commands(text: str, expected: object) -> None:
    assert parse_command(text, TODAY) == expected


def test_anything_else_is_an_inquiry_with_the_customer_named_or_not() -> None:
    assert parse_command("客户：恒锐五金 M6*20外六角 5000个", TODAY) == Inquiry("M6*20外六角 5000个", "恒锐五金")
    assert parse_command("M8螺母两千个 13812345678", TODAY) == Inquiry("M8螺母两千个 13812345678")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("第2项 3000", (2, 3000.0)), ("三千", (None, 3000.0)), ("第一项 2000个", (1, 2000.0)),
     ("第3行：1.5万", (3, 15000.0)), ("两千千克", (None, 2000.0)), ("很多", (None, None))],
)
def test_line_quantities(value: str, expected: tuple[int | None, float | None]) -> None:
    from bot.wecom_parse import parse_line_quantity

    assert parse_line_quantity(value) == expected
