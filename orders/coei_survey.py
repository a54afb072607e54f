"""The COEI survey over the database: a month's sample asked, answers stored, the index read.

`start_month` picks the month's sample of completed orders (delivered in that China month,
customers with a WeChat identity, one order per customer, orders/coei.py) and, in the
caller's transaction, writes one CoeiSurvey row per order and the first message as a
`notify_customer` outbox row — the push router then sends it as a customer-service message
inside the 48-hour window, else as a template message. Re-running it for the same month adds
nothing (unique month + order, and the rows' dedup keys). `schedule` writes the self-
scheduling `coei_survey` outbox row of a month (workers/coei_survey.py carries it out).

Answers come in through chat (bot/survey.py → `answer`), one question at a time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from orders import coei
from orders.models import CoeiSurvey, Customer, Order, as_utc
from orders.numbering import SHANGHAI
from orders.outbox import OutboxKind, enqueue
from orders.upsert import insert_for

KIND = OutboxKind.COEI_SURVEY
COMPLETED = ("delivered", "closed")
STATUS_LABEL = "服务回访"


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def month_start(month: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValueError(f"month {month!r}: use YYYY-MM, e.g. 2026-11") from None


def next_month(month: str) -> str:
    first = month_start(month)
    return month_of((first + dt.timedelta(days=32)).replace(day=1))


def previous_month(month: str) -> str:
    return month_of(month_start(month) - dt.timedelta(days=1))


def _china_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def send_time(month: str, at: dt.time) -> dt.datetime:
    """A month's survey goes out on the 1st of the next month at `at` (China time)."""
    first = month_start(next_month(month))
    return dt.datetime.combine(first, at, SHANGHAI).astimezone(dt.UTC)


async def schedule(session: AsyncSession, month: str, at: dt.time) -> bool:
    """The month's `coei_survey` row, due at its send time; once per month (dedup key)."""
    return await enqueue(session, KIND, "", {"month": month}, f"{KIND}:{month}", not_before=send_time(month, at))


async def completed_orders(session: AsyncSession, month: str) -> list[tuple[int, str, int, str]]:
    """(order id, number, customer id, openid to ask) of the month's completed orders whose
    customer can be reached in WeChat."""
    start = month_start(month)
    stmt = (
        select(Order.id, Order.number, Order.customer_id, Customer.openid, Customer.mp_openid)
        .join(Customer, Customer.id == Order.customer_id)
        .where(col(Order.status).in_(COMPLETED), col(Order.delivered_at).is_not(None),
               col(Order.delivered_at) >= _china_midnight(start),
               col(Order.delivered_at) < _china_midnight(month_start(next_month(month))))
    )
    return [(oid, number, cid, openid or mp_openid)
            for oid, number, cid, openid, mp_openid in (await session.exec(stmt)).all() if openid or mp_openid]


async def start_month(session: AsyncSession, month: str, *, size: int, now: dt.datetime,
                      answer_days: int = 7) -> int:
    """Ask the month's sample (in the caller's transaction); how many were newly asked."""
    orders = await completed_orders(session, month)
    chosen = set(coei.sample_one_per_customer([(number, cid) for _, number, cid, _ in orders], month, size))
    asked = 0
    for order_id, number, customer_id, target in orders:
        if number not in chosen:
            continue
        stmt = (
            insert_for(session, CoeiSurvey)
            .values(month=month, order_id=order_id, customer_id=customer_id, state="asking", question=0,
                    answers={}, sent_at=now, expires_at=now + dt.timedelta(days=answer_days))
            .on_conflict_do_nothing(index_elements=["month", "order_id"])
        )
        if not (await session.exec(stmt)).rowcount:
            continue  # asked before (a re-run, a redelivered row)
        await enqueue(session, OutboxKind.NOTIFY_CUSTOMER, target, {
            "type": "coei_survey", "text": coei.intro(month, number), "customer_id": customer_id,
            "order_id": order_id, "number": number, "status_label": STATUS_LABEL,
        }, f"coei:{month}:{order_id}:q1")
        asked += 1
    return asked


async def pending_for(session: AsyncSession, customer_id: int, now: dt.datetime) -> CoeiSurvey | None:
    """The customer's survey still waiting for an answer (the latest one), if any."""
    rows = (await session.exec(
        select(CoeiSurvey).where(CoeiSurvey.customer_id == customer_id, CoeiSurvey.state == "asking")
        .order_by(col(CoeiSurvey.id).desc())
    )).all()
    return next((r for r in rows if as_utc(r.expires_at) > now), None)


def answer(survey: CoeiSurvey, score: float | None, now: dt.datetime) -> str:
    """Record the answer to the current question; the reply: the next question, or thanks."""
    key = coei.QUESTIONS[survey.question][0]
    survey.answers = {**(survey.answers or {}), key: score}
    survey.question += 1
    survey.answered_at = now
    if survey.question >= len(coei.QUESTIONS):
        survey.state = "done"
        return coei.THANKS
    return "收到，谢谢！\n" + coei.question_text(survey.question)


@dataclass
class MonthResult:
    """A month's survey as the board, /metrics, the report and `orderbot coei` show it."""

    month: str
    asked: int = 0
    answered: int = 0  # at least one answer
    completed: int = 0  # all three
    index: float | None = None
    per_question: dict[str, float | None] = field(default_factory=dict)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None


def result_of(month: str, rows: list[dict[str, Any]], states: list[str]) -> MonthResult:
    answered = [a for a in rows if a]
    per_question = {key: coei.index([{key: a.get(key)} for a in answered]) for key, _, _ in coei.QUESTIONS}
    return MonthResult(month, len(rows), len(answered), sum(1 for s in states if s == "done"),
                       coei.index(answered), per_question)


async def month_result(session: AsyncSession, month: str) -> MonthResult:
    rows = (await session.exec(select(CoeiSurvey.answers, CoeiSurvey.state).where(CoeiSurvey.month == month))).all()
    return result_of(month, [dict(a or {}) for a, _ in rows], [s for _, s in rows])


async def latest_result(session: AsyncSession) -> MonthResult | None:
    """The most recent surveyed month with any answer (else the most recent asked), or None:
    one query for the months, one for the chosen month's rows."""
    months = (await session.exec(
        select(CoeiSurvey.month, func.max(CoeiSurvey.question)).group_by(CoeiSurvey.month)
        .order_by(col(CoeiSurvey.month).desc()).limit(3)
    )).all()
    if not months:
        return None
    month = next((m for m, answered in months if answered), months[0][0])
    return await month_result(session, month)
