"""COEI answers in the customer's chat (the questions: orders/coei_survey.py).

While a survey of theirs is waiting (sent, not expired, not finished), a customer's message
that reads as an answer — 是 / 否 / 不适用 / 1–5 — is taken as the answer to the current
question, and the reply is the next question or, after the last, thanks. Anything else goes
to the ordering conversation as usual, and so does everything while an order is being put
together (a draft open, a product choice awaited: there "1" picks a product), so a pending
survey never gets in the way of ordering.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import SessionState
from orders import coei, coei_survey


def may_take(state: SessionState) -> bool:
    """Answers are read only between orders: no open draft, no choice awaited."""
    return state.stage == "idle" and not state.draft and not state.pending_choice


def reads_as_answer(customer_id: int | None, text: str, state: SessionState) -> bool:
    """Whether `text` could answer a waiting survey at all, without asking the database:
    most messages (orders, questions, 确认) are not, and need no look at pending surveys."""
    if customer_id is None or not may_take(state):
        return False
    try:
        coei.score_answer(text)
    except coei.AnswerError:
        return False
    return True


async def take(s: AsyncSession, customer_id: int | None, text: str, state: SessionState,
               now: dt.datetime) -> list[str] | None:
    """Record `text` as the pending survey's answer (in `s`, uncommitted) and return the
    replies; None when it is not one: no survey waiting, an order in progress, or not an answer."""
    if not reads_as_answer(customer_id, text, state):
        return None
    score = coei.score_answer(text)
    survey = await coei_survey.pending_for(s, customer_id, now)
    if survey is None:
        return None
    reply = coei_survey.answer(survey, score, now)
    s.add(survey)
    return [reply]
