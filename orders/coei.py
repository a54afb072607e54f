"""The customer order experience index (COEI): three questions, one 0–100 number.

A sample of completed orders (`sample`, e.g. 300 a month) is asked, after delivery:
  1. 发货通知是否早于实际发货？                     (weight 40 %)
  2. 订单状态更新的频率是否符合您的预期？            (weight 30 %)
  3. 如遇延误，是否在 2 小时内收到说明和补救方案？    (weight 30 %; 不适用 when nothing was late)
Each answer is scored 0–100 (是 = 100, 否 = 0, or 1–5 stars = 0/25/50/75/100); the index is
the weighted mean of the three questions' average scores, the weights renormalised over the
questions that got any answer. Pure: the month's survey is started by orders/coei_survey.py
(from workers/coei_survey.py, monthly, or `orderbot coei --send`), the questions go out as
customer pushes (customer-service message in the 48-hour window, else template message) and
the answers are read in chat by bot/survey.py.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence

QUESTIONS: tuple[tuple[str, str, float], ...] = (
    ("notice_before_shipment", "发货通知是否早于实际发货？（回复 是/否 或 1-5 分）", 0.40),
    ("update_frequency", "订单状态更新的频率是否符合您的预期？（回复 是/否 或 1-5 分）", 0.30),
    ("delay_remedy", "如遇延误，是否在 2 小时内收到说明和补救方案？（回复 是/否/不适用 或 1-5 分）", 0.30),
)
NOT_APPLICABLE = None
_YES = re.compile(r"^(?:是|是的|对|有|早于|符合|满意|yes|y)$", re.IGNORECASE)
_NO = re.compile(r"^(?:否|不是|没有|无|不符合|不满意|晚于|no|n)$", re.IGNORECASE)
_NA = re.compile(r"^(?:不适用|没延误|没有延误|无延误|n/?a)$", re.IGNORECASE)


class AnswerError(ValueError):
    """A reply that is none of 是 / 否 / 不适用 / 1–5: ask again instead of guessing."""


def score_answer(text: str) -> float | None:
    """是 → 100, 否 → 0, 1–5 → 0…100, 不适用 → None; anything else raises AnswerError."""
    t = re.sub(r"[\s。.!！分星]", "", text or "")
    if _YES.match(t):
        return 100.0
    if _NO.match(t):
        return 0.0
    if _NA.match(t):
        return NOT_APPLICABLE
    if re.fullmatch(r"[1-5]", t):
        return (int(t) - 1) * 25.0
    raise AnswerError(f"没看懂「{text}」：请回复 是、否、不适用，或 1-5 分")


def index(responses: Iterable[Mapping[str, float | None]]) -> float | None:
    """The COEI (0–100) of survey responses ({question key: score or None}); None without any."""
    sums = {key: [0.0, 0] for key, _, _ in QUESTIONS}
    for response in responses:
        for key in sums:
            value = response.get(key)
            if value is not None:
                sums[key][0] += value
                sums[key][1] += 1
    answered = [(sums[key][0] / sums[key][1], weight) for key, _, weight in QUESTIONS if sums[key][1]]
    if not answered:
        return None
    total_weight = sum(w for _, w in answered)
    return round(sum(avg * w for avg, w in answered) / total_weight, 1)


def sample(order_numbers: Sequence[str], month: str, size: int = 300) -> list[str]:
    """`size` of the month's completed orders, chosen by a hash of (month, number): stable
    (a re-run picks the same ones), spread evenly, and not up to whoever runs it."""
    ranked = sorted(order_numbers, key=lambda n: hashlib.sha256(f"{month}:{n}".encode()).hexdigest())
    return sorted(ranked[:size])


def sample_one_per_customer(orders: Sequence[tuple[str, int]], month: str, size: int = 300) -> list[str]:
    """Like `sample`, over (order number, customer id) pairs, asking each customer once a month:
    in the same stable hash order, a customer's first order is taken and the rest skipped."""
    ranked = sorted(orders, key=lambda o: hashlib.sha256(f"{month}:{o[0]}".encode()).hexdigest())
    seen: set[int] = set()
    chosen: list[str] = []
    for number, customer in ranked:
        if customer in seen:
            continue
        seen.add(customer)
        chosen.append(number)
        if len(chosen) >= size:
            break
    return sorted(chosen)


def intro(month: str, number: str) -> str:
    """The first message: why we ask, which order, and the first question."""
    y, m = month.split("-")
    return (f"【服务体验回访】您好！感谢您 {int(y)} 年 {int(m)} 月的订购（订单 {number}）。"
            f"想请您花 1 分钟回答 {len(QUESTIONS)} 个问题，帮助我们改进服务，直接回复即可：\n"
            + question_text(0))


def question_text(i: int) -> str:
    return f"{i + 1}/{len(QUESTIONS)} {QUESTIONS[i][1]}"


THANKS = "感谢您的反馈！我们会根据您的意见改进服务。如需下单，直接发送产品和数量即可。"
