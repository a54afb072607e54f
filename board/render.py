"""HTML for the board: server-rendered, no CDN; charts are inline SVG. JavaScript is needed for
one thing only: a page painted before the metrics were computed fetches their panel.

Everything user-supplied goes through `esc`. Labels are Chinese: managers read this page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from html import escape
from typing import Any

from board.auth import Viewer
from board.queries import BoardOrder, BoardSnapshot, OrderPage
from orders.coei_survey import MonthResult
from orders.desk_buckets import Bucket
from orders.desk_metrics import DayMetrics, DeskMetrics, human_duration, percent
from orders.numbering import SHANGHAI
from orders.status import OrderStatus

EVENT_LABELS = {
    "created": "创建", "submitted": "提交", "confirmed": "确认", "rejected": "拒绝", "held": "挂起",
    "released": "放行", "edited": "修改", "reassigned": "转交", "shipped": "发货", "delivered": "签收",
    "closed": "完成", "cancelled": "取消", "routed": "分配", "reminded": "提醒", "escalated": "超时上报",
}
STAGE_LABELS = {"created→placed": "创建→下单", "placed→confirmed": "下单→确认",
                "confirmed→shipped": "确认→发货", "shipped→delivered": "发货→签收"}
FIELD_LABELS = {
    "status": "状态", "hold_reason": "挂起原因", "total": "金额", "lines": "行数", "rep_id": "业务员",
    "delivery_date": "交期", "phone": "电话", "contact": "联系人", "address_detail": "地址", "remarks": "备注",
    "stock": "库存", "carrier": "承运商", "waybill_no": "运单号", "confirm_due_at": "确认期限",
}
ROLE_LABELS = {"customer": "客户", "rep": "业务员", "manager": "经理", "admin": "管理员", "system": "系统"}


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def money(value: Decimal | float | int) -> str:
    return f"¥{Decimal(value):,.2f}"


def qty(value: Decimal | float | int) -> str:
    """3000.000 → 3000, 2.500 → 2.5."""
    return f"{Decimal(str(value)).normalize():f}"


def local(t: dt.datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    if t is None:
        return "—"
    aware = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return aware.astimezone(SHANGHAI).strftime(fmt)


STATUS_VALUES = frozenset(s.value for s in OrderStatus)


def status_label(status: str) -> str:
    try:
        return OrderStatus(status).label
    except ValueError:
        return status


def page(title: str, body: str, who: Viewer | None = None) -> str:
    user = (f'<span class="who">{esc(who.name)}（{who.role_label}）</span>'
            f'<form method="post" action="/board/logout" class="inline">'
            f'<input type="hidden" name="csrf" value="{esc(who.csrf)}"><button class="link">退出</button></form>'
            if who else "")
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><link rel="stylesheet" href="/board/static/board.css"></head>
<body><header><a href="/board/" class="brand">订单看板</a>{user}</header>
<main>{body}</main></body></html>"""


# --- charts ----------------------------------------------------------------------------------


def sparkline(values: Sequence[float | None], *, width: int = 160, height: int = 36, label: str = "") -> str:
    """A small line over days; gaps (None) break the line. Last value marked with a dot."""
    points = [(i, v) for i, v in enumerate(values) if v is not None]
    if not points:
        return f'<svg class="spark" width="{width}" height="{height}" role="img" aria-label="{esc(label)}：无数据"></svg>'
    top = max(v for _, v in points) or 1.0
    step = (width - 6) / max(1, len(values) - 1)

    def xy(i: int, v: float) -> str:
        return f"{3 + i * step:.1f},{height - 3 - (v / top) * (height - 8):.1f}"

    segments, current = [], []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append(xy(i, v))
    if current:
        segments.append(current)
    lines = "".join(f'<polyline points="{" ".join(seg)}" />' for seg in segments if len(seg) > 1)
    last_i, last_v = points[-1]
    x, y = xy(last_i, last_v).split(",")
    return (f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{esc(label)}">{lines}<circle cx="{x}" cy="{y}" r="2.5" /></svg>')


def bars(values: Sequence[float], *, width: int = 160, height: int = 36, label: str = "",
         marks: Sequence[float] | None = None) -> str:
    """Daily counts as bars; `marks` (same length) are drawn as a darker part of each bar."""
    top = max(values, default=0) or 1.0
    n = max(1, len(values))
    w = width / n
    parts = []
    for i, v in enumerate(values):
        h = (v / top) * (height - 4)
        parts.append(f'<rect x="{i * w + 1:.1f}" y="{height - h:.1f}" width="{max(1.0, w - 2):.1f}" height="{h:.1f}" />')
        if marks is not None and marks[i]:
            mh = (marks[i] / top) * (height - 4)
            parts.append(f'<rect class="mark" x="{i * w + 1:.1f}" y="{height - mh:.1f}" '
                         f'width="{max(1.0, w - 2):.1f}" height="{mh:.1f}" />')
    return (f'<svg class="bars" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{esc(label)}">{"".join(parts)}</svg>')


# --- the board -------------------------------------------------------------------------------


def _metric(title: str, value: str, chart: str, hint: str) -> str:
    return (f'<div class="metric"><div class="mt">{esc(title)}</div><div class="mv">{esc(value)}</div>'
            f'{chart}<div class="mh">{esc(hint)}</div></div>')


def metrics_panel(m: DeskMetrics, days: list[DayMetrics]) -> str:
    def minutes(v: float | None) -> float | None:
        return None if v is None else v / 60

    first, last = (days[0].day, days[-1].day) if days else (None, None)
    span = f"{first:%m-%d} 至 {last:%m-%d}" if first and last else ""
    cards = [
        _metric("下单数", str(m.placed), bars([d.placed for d in days], marks=[d.held for d in days],
                                               label="每日下单数（深色为被拦截）"), "每日下单，深色为被拦截"),
        _metric("拦截率", percent(m.interception_rate),
                sparkline([d.interception_rate for d in days], label="每日拦截率"), "挂起订单 / 下单数"),
        _metric("确认用时（中位）", human_duration(m.confirmation_median),
                sparkline([minutes(d.confirmation_median) for d in days], label="每日确认用时中位数"), "下单 → 业务员确认"),
        _metric("异常响应（中位）", human_duration(m.response_median),
                sparkline([minutes(d.response_median) for d in days], label="每日异常响应中位数"), "挂起 → 放行或取消"),
        _metric("人工操作/单", "—" if m.touches_per_order is None else f"{m.touches_per_order:.2f}",
                sparkline([d.touches_per_order for d in days], label="每日人均操作"), "业务员、经理的操作次数"),
        _metric("状态准确率", percent(m.state_accuracy), "", f"与外部系统最后状态一致（{m.with_external} 单）"),
    ]
    stages = "".join(f"<li><span>{esc(STAGE_LABELS.get(name, name))}</span><b>{esc(human_duration(v))}</b></li>"
                     for name, v in m.stage_medians().items())
    return (f'<section class="metrics"><h2>运营指标 <small>{esc(span)}，按下单日</small></h2>'
            f'<div class="cards">{"".join(cards)}</div>'
            f'<ul class="stages"><li class="st">各环节用时（中位）</li>{stages}</ul></section>')


COEI_LABELS = {"notice_before_shipment": "发货通知早于发货", "update_frequency": "状态更新频率符合预期",
               "delay_remedy": "延误 2 小时内有说明和补救"}


def coei_panel(r: MonthResult | None) -> str:
    """The customer order experience index of the latest surveyed month, and its parts."""
    if r is None:
        return ('<section class="metrics coei"><h2>客户订单体验指数（COEI）</h2>'
                '<p class="empty">还没有回访数据：每月 1 日向上月已完成订单的抽样客户发送 3 个问题。</p></section>')
    value = "—" if r.index is None else f"{r.index:.1f}"
    parts = "".join(f"<li><span>{esc(COEI_LABELS.get(k, k))}</span><b>{'—' if v is None else f'{v:.0f}'}</b></li>"
                    for k, v in r.per_question.items())
    return (f'<section class="metrics coei"><h2>客户订单体验指数（COEI） <small>{esc(r.month)}</small></h2>'
            f'<div class="cards">{_metric("COEI（0–100）", value, "", "权重 40% / 30% / 30%")}'
            f'{_metric("回复", f"{r.answered}/{r.asked}", "", f"完成 3 题 {r.completed} 份")}</div>'
            f'<ul class="stages"><li class="st">各题得分</li>{parts}</ul></section>')


def _order_item(o: BoardOrder, who: Viewer, rep_names: dict[int, str]) -> str:
    reasons = "".join(f'<span class="tag">{esc(r)}</span>' for r in o.reasons)
    release = ""
    if o.status == "on_hold":
        release = (f'<form method="post" action="/board/orders/{esc(o.number)}/release" class="inline">'
                   f'<input type="hidden" name="csrf" value="{esc(who.csrf)}">'
                   f'<input type="hidden" name="version" value="{o.version}">'
                   f'<input name="reason" placeholder="放行原因" required data-order="{esc(o.number)}">'
                   f'<button class="act" data-order="{esc(o.number)}">放行</button></form>')
    due = f" · 交期 {o.delivery_date:%m-%d}" if o.delivery_date else ""
    rep = rep_names.get(o.rep_id or -1, "未分配")
    return (f'<li class="order" id="o-{esc(o.number)}"><div class="row1"><a href="/board/orders/{esc(o.number)}">'
            f'{esc(o.number)}</a><span class="st">{esc(status_label(o.status))}</span>'
            f'<span class="amt">{money(o.total)}</span></div>'
            f'<div class="row2">{esc(o.customer)} · {esc(rep)}{esc(due)}</div>'
            f'<div class="row3">{reasons}{release}</div></li>')


# Painted before the metrics exist (a fresh database, or the first start): the panel is
# fetched when ready; without JavaScript a reload shows it.
PENDING_METRICS = ('<section class="metrics" id="metrics-pending"><h2>运营指标</h2><p class="empty">指标正在计算，'
                   '稍后自动显示（或刷新页面）。</p></section>'
                   '<script>fetch("/board/metrics",{credentials:"same-origin"})'
                   '.then(function(r){return r.ok?r.text():null})'
                   '.then(function(h){var e=document.getElementById("metrics-pending");if(h&&e){e.outerHTML=h}})'
                   '</script>')


def board_page(snap: BoardSnapshot, metrics: DeskMetrics | None, days: list[DayMetrics], who: Viewer,
               notice: str = "", shown: int = 60) -> str:
    cols = []
    for bucket in Bucket:
        orders = snap.buckets[bucket]
        items = "".join(_order_item(o, who, snap.rep_names) for o in orders[:shown])
        more = f'<li class="more">另有 {len(orders) - shown} 单</li>' if len(orders) > shown else ""
        empty = '<li class="empty">暂无</li>' if not orders else ""
        cols.append(f'<section class="bucket {bucket.value}" id="bucket-{bucket.value}">'
                    f'<h2>{esc(bucket.label)} <span class="count">{len(orders)}</span></h2>'
                    f'<ul>{items}{more}{empty}</ul></section>')
    exc_rows = "".join(
        f'<tr><td>{esc(local(e.at, "%H:%M"))}</td><td><a href="/board/orders/{esc(e.number)}">{esc(e.number)}</a></td>'
        f'<td>{esc(EVENT_LABELS.get(e.type, e.type))}</td><td>{esc(e.reason)}</td><td>{money(e.total)}</td></tr>'
        for e in snap.exceptions
    ) or '<tr><td colspan="5" class="empty">今天还没有异常</td></tr>'
    rep_rows = "".join(
        f'<tr><td>{esc(r.name)}</td><td>{esc(r.team)}</td><td class="n">{r.open_orders}</td>'
        f'<td class="n">{esc(human_duration(r.confirmation_median))}</td>'
        f'<td class="n{" bad" if r.sla_breaches else ""}">{r.sla_breaches}</td></tr>'
        for r in snap.reps
    ) or '<tr><td colspan="5" class="empty">暂无业务员</td></tr>'
    note = f'<p class="notice">{esc(notice)}</p>' if notice else ""
    body = f"""{note}<p class="asof">更新于 {esc(local(snap.now, "%Y-%m-%d %H:%M"))}（北京时间）</p>
<div class="buckets">{"".join(cols)}</div>
<div class="two">
<section class="exceptions"><h2>今日异常</h2><table><thead><tr><th>时间</th><th>订单</th><th>事件</th><th>原因</th><th>金额</th></tr></thead>
<tbody>{exc_rows}</tbody></table></section>
<section class="reps"><h2>业务员</h2><table><thead><tr><th>姓名</th><th>团队</th><th>待处理</th><th>确认用时（中位）</th><th>超时</th></tr></thead>
<tbody>{rep_rows}</tbody></table></section>
</div>
{metrics_panel(metrics, days) if metrics else PENDING_METRICS}
{coei_panel(snap.coei)}"""
    return page("订单看板", body, who)


# --- one order ------------------------------------------------------------------------------


def _changes(changes: dict[str, Any]) -> str:
    def shown(v: Any) -> str:
        if v is None or v == "":
            return "—"
        return status_label(v) if isinstance(v, str) and v in STATUS_VALUES else esc(v)

    parts = []
    for key, value in (changes or {}).items():
        label = esc(FIELD_LABELS.get(key, key))
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"<li><b>{label}</b>：{shown(value[0])} → {shown(value[1])}</li>")
        else:
            parts.append(f"<li><b>{label}</b>：{shown(value)}</li>")
    return f'<ul class="changes">{"".join(parts)}</ul>' if parts else ""


def order_page(p: OrderPage, who: Viewer, notice: str = "") -> str:
    o = p.order
    csrf = (f'<input type="hidden" name="csrf" value="{esc(who.csrf)}"><input type="hidden" name="version" value="{o.version}">'
            f'<input type="hidden" name="next" value="/board/orders/{esc(o.number)}">')
    events = []
    for e in p.events:
        msg = p.messages.get(e.source_message_id or -1)
        source = (f'<span class="src" title="{esc(msg.raw[:500])}">{esc(msg.channel)}#{msg.id}：{esc((msg.content or "")[:80])}</span>'
                  if msg else "")
        move = (f"{esc(status_label(e.from_status))} → {esc(status_label(e.to_status))}"
                if e.from_status and e.to_status and e.from_status != e.to_status else "")
        events.append(
            f'<tr class="ev-{esc(e.type)}"><td>{esc(local(e.at, "%Y-%m-%d %H:%M:%S"))}</td>'
            f'<td>{esc(ROLE_LABELS.get(e.actor_kind, e.actor_kind))} {esc(e.actor_id)}</td>'
            f'<td>{esc(EVENT_LABELS.get(e.type, e.type))}</td><td>{move}</td><td>{_changes(e.changes)}</td>'
            f'<td>{esc(e.reason)}</td><td>{source}</td></tr>')
    lines = "".join(f"<tr><td>{esc(line.name)}</td><td>{esc(line.sku)}</td><td class='n'>{esc(qty(line.quantity))} {esc(line.unit)}</td>"
                    f"<td class='n'>{money(line.amount)}</td></tr>" for line in p.lines)
    actions = []
    if o.status == "on_hold":
        actions.append(f'<form method="post" action="/board/orders/{esc(o.number)}/release">{csrf}'
                       f'<input name="reason" placeholder="放行原因" required><button class="act">放行</button></form>')
    if o.status in ("pending", "on_hold", "confirmed"):
        options = "".join(f'<option value="{r.id}"{" selected" if r.id == o.rep_id else ""}>{esc(r.name)}（{esc(r.team)}）</option>'
                          for r in p.reps)
        actions.append(f'<form method="post" action="/board/orders/{esc(o.number)}/reassign">{csrf}'
                       f'<select name="rep_id">{options}</select><input name="reason" placeholder="转交原因" required>'
                       f'<button class="act">转交</button></form>')
    if o.status not in ("cancelled", "closed", "delivered"):
        actions.append(f'<form method="post" action="/board/orders/{esc(o.number)}/cancel">{csrf}'
                       f'<input name="reason" placeholder="取消原因" required><button class="act danger">取消订单</button></form>')
    customer = p.customer.company or p.customer.name if p.customer else ""
    note = f'<p class="notice">{esc(notice)}</p>' if notice else ""
    body = f"""{note}<p><a href="/board/">← 返回看板</a></p>
<h1>{esc(o.number)} <span class="st">{esc(status_label(o.status))}</span></h1>
<dl class="facts"><dt>客户</dt><dd>{esc(customer)}</dd><dt>业务员</dt><dd>{esc(p.rep.name if p.rep else "未分配")}</dd>
<dt>金额</dt><dd>{money(o.total)}</dd><dt>交期</dt><dd>{esc(o.delivery_date or "—")}</dd>
<dt>地址</dt><dd>{esc(" ".join(x for x in (o.province, o.city, o.district, o.address_detail) if x))}</dd>
<dt>挂起原因</dt><dd>{esc(o.hold_reason or "—")}</dd></dl>
<div class="actions">{"".join(actions)}</div>
<h2>明细</h2><table><thead><tr><th>品名</th><th>SKU</th><th>数量</th><th>金额</th></tr></thead><tbody>{lines}</tbody></table>
<h2>事件记录</h2><table class="events"><thead><tr><th>时间</th><th>操作人</th><th>事件</th><th>状态</th><th>变更</th><th>原因</th><th>来源消息</th></tr></thead>
<tbody>{"".join(events)}</tbody></table>"""
    return page(f"订单 {o.number}", body, who)


def message_page(title: str, text: str) -> str:
    return page(title, f'<section class="message"><h1>{esc(title)}</h1><p>{esc(text)}</p>'
                       f'<p><a href="/board/login">重新登录</a></p></section>')
