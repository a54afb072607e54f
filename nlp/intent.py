"""Is a message an order at all? Price inquiries (帮忙报个价…到苏州), complaints about a
past delivery (上次发的M8螺母少了两包) and where-is-my-parcel questions (发到杭州的那批
到哪了) name products, counts and places without ordering anything.

A small cue classifier: each kind of non-order has its cue words; an order has its own
(下单, 补发, 再加, 收货人…; 送到 only against a price question). A message
with a non-order cue and no order cue is not an order: it yields no items, no address
(the city is where a price or a parcel goes, not a delivery), no date and no rush.
"""

from __future__ import annotations

import re

INQUIRY = re.compile(
    r"报价|报个价|报一下价|报(?:一下|个)?[^，,。；;？?\n]{0,20}?的?价格|询价|询个价|多少钱|什么价|啥价|怎么卖|几多钱|有没有货|有货吗|现货吗|能做吗|能不能做|优惠吗|含税不|含税吗|"
    r"便宜点|quote|quotation",
    re.IGNORECASE,
)
# Price words that ask only inside a question (单价0.05 in an order states the price).
_PRICE_WORD = re.compile(r"价格|单价|运费|起订|有现货|有优惠|几天能到|要几天|多久能到|price", re.IGNORECASE)
COMPLAINT = re.compile(
    r"少了|少发|漏发|发错|错发|发成了|质量问题|质量不行|不合格|退货|退回|换货|投诉|坏了|生锈|滑牙|划伤|破损|怎么回事|怎么搞的|"
    r"不满意|退款|赔偿|次品"
)
TRACKING = re.compile(
    r"到哪了|到哪里了|到哪儿了|物流单号|快递单号|运单号|查一下物流|查下物流|发了吗|发了没|发货了吗|发货了没|什么时候到|还没到|还没收到|"
    r"没收到|没送到|还没送|一直没到|到了没|签收|where is my|tracking"
    # 物流显示到成都了 两天没动: the parcel's progress, asked about
    r"|(?:物流|快递|单号|包裹)[^，,。；;\n]{0,6}(?:显示|停在|卡在|一直在)|没更新|不动了|没动(?:静)?",
    re.IGNORECASE,
)
# A new order being placed; and where it goes (which a parcel question also says: 说是送到苏州).
ORDER = re.compile(
    r"下单|订购|要货|补发|补货|补单|补上|这次要|这次订|一起发|再加|再订|再来|还要(?!多久|几天)|另外再?(?:订|要|来)|就按这个|按这个价|安排发货|帮我发|麻烦发|给我发|发过来|"
    r"尽快发|(?:please|pls|plz|&|and) (?:send|ship|supply|deliver)|\bPO\b|purchase order",
    re.IGNORECASE,
)
DELIVERY = re.compile(r"送到|送至|寄到")
# Receiver labels: a block of delivery details, which no question or complaint carries.
RECEIVER = re.compile(r"收货人|收件人|联系人|收货地址|收件地址|送货地址")
# Invoices asked for goods already bought: 开一下上个月的专票, 补开发票, 抬头/税号 given.
INVOICE = re.compile(r"开(?:一下|下|个|张|一张)?[^，,。；;\n]{0,12}?(?:发票|专票|普票)|开票|补开|发票(?:寄|开)")
_INVOICE_DETAILS = re.compile(r"抬头|税号|开户行|上个?月|上次|之前|那几单|那批|那单|几单")
# A count with its unit: something is being ordered.
_COUNTED = re.compile(r"\d\s*(?:个|只|套|箱|盒|包|件|片|颗|粒|支|根|条|pcs)|[一二两三四五六七八九十百千万]\s*(?:个|只|套|箱|盒|包|件|片)")
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
_SENT = re.compile(r"送|发到|发往|寄到|地址|收货|收件")
# Words that commit to buying, beyond naming where the goods would go.
_COMMITTED = re.compile(r"发货|收货|安排|订货|采购|下单|就要|先发|确认")
_SENTENCE = re.compile(r"[^。；;！!？?\n]*[。；;！!？?\n]?")


# A price asked with the freight to a place: 发到苏州 names where the price goes, not an order.
_FREIGHT_ASKED = re.compile(r"含运费|运费多少|运费怎么算|运费几多|包邮吗|包不包邮|到[^，,。\n]{0,8}运费")
# Questions about the seller's days off (国庆放几天假？节前最后一天发货是几号): no order.
HOLIDAY = re.compile(r"放几天假|几号放假|哪天放假|什么时候放假|放假到几号|几号上班|哪天上班|几号开工|最后一天发货|停止发货|停发")
# A complaint is about goods already sent: a past reference or a question.
_ABOUT_THE_PAST = re.compile(r"上次|之前|前几天|前天|昨天|上周|上个月|那批|那次|发的|收到的|到的|来的货|[？?]|吗|怎么")
# Words that make a price question part of an order (报价后送到…, 价格可以就安排发货).
_PRICED_ORDER = re.compile(r"发货|发到|收货|地址|安排|订货|采购|到货|送货|发一下")


_CLAUSE = re.compile(r"[^，,。；;！!？?\n]*[，,。；;！!？?\n]?")
_OPEN = re.compile(r"[？?]$|吗|呢|几天|多久|能不能|可不可以|的话|如果|要是|假如")


def _asserted(text: str) -> str:
    """The clauses that state something: 要200只的话几天能发到宁波？ asks, it orders nothing."""
    return "".join(c for c in _CLAUSE.findall(text) if not _OPEN.search(c.strip()))


def kind(text: str) -> str | None:
    """'inquiry', 'complaint', 'tracking' or 'invoice' for a message that orders nothing; None
    for an order (or a message with no cue either way)."""
    said = _asserted(text)
    # A receiver label inside a question (收件地址是…那个仓库，怎么没送到？) places no order.
    stated = "".join(c for c in _SENTENCE.findall(text) if not re.search(r"[？?]\s*$|怎么|谁", c))
    if ORDER.search(said) or RECEIVER.search(stated):
        return None
    if INVOICE.search(text) and _INVOICE_DETAILS.search(text) and not _COUNTED.search(text) and not DELIVERY.search(said):
        return "invoice"
    # Counts, a phone and where to deliver: an order, whatever else it mentions
    # (上次有滑牙的 inside a new order is a remark, not a complaint).
    full_order = bool(_COUNTED.search(text) and _PHONE.search(text) and _SENT.search(said))
    if TRACKING.search(text) and not full_order:
        return "tracking"
    if COMPLAINT.search(text) and _ABOUT_THE_PAST.search(text) and not full_order:
        return "complaint"  # 质量问题注意下 inside a new order is a remark, not a complaint
    asked = INQUIRY.search(text) or any(_PRICE_WORD.search(c) and _OPEN.search(c.strip()) for c in _CLAUSE.findall(text))
    if asked and ((not _PRICED_ORDER.search(said) and not DELIVERY.search(said)) or (INQUIRY.search(said) and _FREIGHT_ASKED.search(text))):
        return "inquiry"
    if asked and not _PHONE.search(text) and not _COMMITTED.search(said):
        return "inquiry"  # 多少钱一套 发到宁波北仑: where the price goes, no one to deliver to
    if HOLIDAY.search(text):
        return "inquiry"
    return None
