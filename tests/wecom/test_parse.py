"""A rep's words → one command."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.wecom_parse import (
    AddLine,
    Cancel,
    Confirm,
    Edit,
    Help,
    Inquiry,
    MissingNumber,
    Reassign,
    Reject,
    Todo,
    parse_command,
)

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
        ("确认", MissingNumber("确认", "确认 SO20260302-0001")),
        ("确认 SO123", MissingNumber("确认", "确认 SO20260302-0001")),
        ("改 SO20260302-0001 交期 3月9日 原因 客户工地延期",
         Edit("SO20260302-0001", "delivery_date", "3月9日", dt.date(2026, 3, 9), "客户工地延期")),
        ("改 SO20260302-0001 内部备注 老客户月结 原因：经理交代",
         Edit("SO20260302-0001", "rep_remarks", "老客户月结", None, "经理交代")),
        ("加运费 SO20260302-0001 50 送上楼", AddLine("SO20260302-0001", "freight", "50", "运费", reason="送上楼")),
        ("加运费 SO20260302-0001 ¥35.5元", AddLine("SO20260302-0001", "freight", "35.5", "运费")),
        ("加赠品 SO20260302-0001 M6平垫 100个 老客户",
         AddLine("SO20260302-0001", "gift", name="M6平垫", quantity=100.0, unit="个", reason="老客户")),
        ("加赠品 so20260302-0001 M6*20外六角 两百 原因 补偿上次少发",
         AddLine("SO20260302-0001", "gift", name="M6*20外六角", quantity=200.0, reason="补偿上次少发")),
        ("加服务 SO20260302-0001 包装费 30 木箱", AddLine("SO20260302-0001", "service", "30", "包装费", reason="木箱")),
        ("取消 SO20260302-0001 原因 客户不要了", Cancel("SO20260302-0001", "客户不要了")),
        ("取消 SO20260302-0001", Cancel("SO20260302-0001", "")),
        ("加运费 50", MissingNumber("加运费", "加运费 SO20260302-0001 50 送上楼")),
        ("加赠品 M6平垫 100个", MissingNumber("加赠品", "加赠品 SO20260302-0001 M6平垫 100个 老客户")),
        ("取消 原因 不要了", MissingNumber("取消", "取消 SO20260302-0001 原因 客户不要了")),
    ],
)
def test_commands(text: str, expected: object) -> None:
    assert parse_command(text, TODAY) == expected


def test_unreadable_additions_say_what_is_missing() -> None:
    for text in ("加运费 SO20260302-0001 很多", "加服务 SO20260302-0001 30", "加赠品 SO20260302-0001 平垫"):
        cmd = parse_command(text, TODAY)
        assert isinstance(cmd, AddLine) and cmd.problem and "SO20260302-0001" in cmd.problem, text


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
