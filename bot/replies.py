"""Chinese texts the customer reads in chat. Pure functions of plain values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from orders.money import money

FIELD_QUESTIONS: dict[str, str] = {
    "items": "请问要订哪些产品？发型号规格、材质和数量就行，例如「M6*20外六角 304 5000个」。",
    "phone": "请留一个收货人的手机号。",
    "address": "请发一下收货地址（省市区和详细地址），也可以直接发送位置。",
    "delivery_date": "请问哪天要货？例如「明天」「下周三前」「3月5日」。",
}

WELCOME = (
    "您好，欢迎下单！直接发文字就可以，例如：\n"
    "「M6*20外六角 304的 5000个，下周三前送常州武进湖塘镇长虹路88号，张工 13812345678」\n"
    "也可以拍照发送订货单。发「我的订单」查看订单，发订单号（如 SO20260302-0001）查询进度。"
)

HELP = (
    "我是下单助手：发产品、数量、交期和收货地址就能下单；拍照发订货单也可以。\n"
    "发「我的订单」查看最近订单，发订单号查询进度，价格和其他问题我会转给业务员。"
)

NOT_AN_ORDER = (
    "收到～我是下单助手，价格、货期等问题已转给业务员，稍后回复您。要下单请直接发产品、数量和地址。"
)

CANCELLED_DRAFT = "好的，这单先不下了。需要时随时发我。"
NOTHING_TO_CONFIRM = "目前没有待确认的订单。要下单请直接发产品、数量和地址。"
IMAGE_RECEIVED = "收到图片，正在识别订货单，请稍等…"
IMAGE_FAILED = "这张图片没能识别出订单（{reason}），麻烦重新拍清楚一些，或直接发文字。"


def fmt_qty(q: Any) -> str:
    d = Decimal(str(q))
    return f"{d.normalize():f}" if d != d.to_integral_value() else str(int(d))


def address_text(address: Mapping[str, Any] | None) -> str:
    if not address:
        return ""
    parts = [address.get(k) or "" for k in ("province", "city", "district", "detail")]
    if parts[0] and parts[0] == parts[1]:  # 上海市上海市 → 上海市
        parts[1] = ""
    text = "".join(parts)
    return text or (address.get("raw") or "")


def ask_missing(missing: Sequence[str]) -> str:
    questions = [FIELD_QUESTIONS[m] for m in missing if m in FIELD_QUESTIONS]
    if not questions:
        return ""
    if len(questions) == 1:
        return "还差一点信息：" + questions[0]
    return "还差几项信息：\n" + "\n".join(f"{i}. {q}" for i, q in enumerate(questions, 1))


def ask_choice(raw: str, options: Sequence[Mapping[str, Any]]) -> str:
    lines = [f"「{raw}」有几种，请问要哪一种？回复序号即可："]
    lines += [f"{i}. {o.get('name') or o.get('sku')}" for i, o in enumerate(options, 1)]
    return "\n".join(lines)


def unknown_items(raws: Iterable[tuple[int, str]]) -> str:
    listed = "、".join(f"第{i}项「{raw}」" for i, raw in raws)
    return (
        f"{listed}没有在产品目录里找到，请补充规格或材质，"
        "或回复「删掉第N项」，业务员也会帮您核实。"
    )


def summary(
    lines: Sequence[Mapping[str, Any]],
    total: Decimal,
    draft: Mapping[str, Any],
    *,
    reused_from_last: bool = False,
    promotions: Sequence[str] = (),
    discount: Decimal | None = None,
) -> str:
    """The order as the customer will confirm it: lines with prices (the price table's
    gifts, freight and service lines too), the promotions applied, total, delivery."""
    out = ["请核对订单："]
    n = 0
    for line in lines:
        kind = line.get("line_type") or "main"
        if kind in ("freight", "service"):
            out.append(f"{line.get('name')}：{money(line.get('amount') or 0)}")
            continue
        name = line.get("name") or line.get("raw") or "?"
        qty = f"{fmt_qty(line['quantity'])}{line.get('unit') or ''}"
        if kind == "gift":
            out.append(f"赠品：{name} × {qty}")
            continue
        n += 1
        if line.get("amount") is not None and line.get("sku"):
            out.append(f"{n}. {name} × {qty}  {money(line['amount'])}")
        else:
            out.append(f"{n}. {name} × {qty}  （待业务员核实）")
    if promotions:
        out.append("优惠：" + "；".join(promotions))
    if discount:
        out.append(f"优惠金额：-{money(discount)}")
    out.append(f"合计：{money(total)}")
    if draft.get("delivery_date"):
        out.append(f"交期：{draft['delivery_date']}" + ("（加急）" if draft.get("rush") else ""))
    who = " ".join(x for x in (draft.get("contact"), draft.get("phone")) if x)
    if who:
        out.append(f"收货人：{who}")
    if draft.get("address"):
        out.append(f"地址：{address_text(draft['address'])}")
    if draft.get("remarks"):
        out.append(f"备注：{draft['remarks']}")
    if reused_from_last:
        out.append("（收货信息沿用上次订单，如需修改直接发新的即可）")
    out.append("回复「确认」下单，回复「取消」放弃，有要改的直接发给我。")
    return "\n".join(out)


FIELD_NAMES = {"phone": "电话", "address": "地址", "delivery_date": "交期", "contact": "收货人",
               "company": "单位", "remarks": "备注"}


def check_ocr(to_confirm: Sequence[Mapping[str, Any]]) -> str:
    """After a photo: the fields the recogniser was unsure of, for the customer to look at."""
    names: list[str] = []
    for entry in to_confirm:
        field = str(entry.get("field") or "")
        if field.startswith("items["):
            name = f"第{int(field[6:-1]) + 1}项产品"
        else:
            name = FIELD_NAMES.get(field, field)
        if name and name not in names:
            names.append(name)
    return f"（以上从图片识别，请重点核对：{'、'.join(names)}）" if names else ""


def order_created(number: str, total: Decimal, status_label: str) -> str:
    return (
        f"下单成功！订单号 {number}，合计 {money(total)}，当前状态：{status_label}。"
        "业务员确认后会通知您，发订单号可随时查询进度。"
    )


def order_list(orders: Sequence[Mapping[str, Any]]) -> str:
    if not orders:
        return "您还没有订单。要下单请直接发产品、数量和地址。"
    out = ["您最近的订单："]
    for o in orders:
        out.append(f"{o['number']}  {o['status_label']}  {money(o['total'])}")
    out.append("发订单号查看详情。")
    return "\n".join(out)


def order_detail(order: Mapping[str, Any]) -> str:
    out = [f"订单 {order['number']}：{order['status_label']}，合计 {money(order['total'])}"]
    if order.get("delivery_date"):
        out.append(f"交期：{order['delivery_date']}")
    if order.get("waybill_no"):
        out.append(f"物流：{order.get('carrier') or ''} {order['waybill_no']}".strip())
    if order.get("last_event"):
        out.append(f"最新进展：{order['last_event']}")
    return "\n".join(out)


def order_not_found(number: str) -> str:
    return f"没有找到您的订单 {number}，请核对订单号。发「我的订单」可查看最近订单。"
