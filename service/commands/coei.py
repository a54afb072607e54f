"""`orderbot coei`: a month's customer order experience index (COEI), or ask its sample now.

    orderbot coei                      # last month: asked, answered, each question, the index
    orderbot coei --month 2026-11
    orderbot coei --month 2026-11 --send   # ask that month's sample now (the worker sends it)

The survey also goes out by itself on the 1st of each month at ORDERBOT_COEI_AT (China time)
for the month before (workers/coei_survey.py); --send for a month already asked asks nobody
twice. Exit 2 when the month or the database is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from orderbot.db import make_engine, make_sessionmaker
from orderbot.settings import get_settings
from orders import coei, coei_survey
from orders.drafts import today_in_china
from orders.models import utcnow
from workers.coei_survey import ask_month

LABELS = {"notice_before_shipment": "发货通知早于实际发货（40%）", "update_frequency": "状态更新频率符合预期（30%）",
          "delay_remedy": "延误 2 小时内有说明和补救（30%）"}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--month", help="YYYY-MM, the month the orders were completed (default: last month)")
    parser.add_argument("--send", action="store_true", help="ask the month's sample now")


def table(r: coei_survey.MonthResult) -> str:
    lines = [f"客户订单体验指数（COEI）{r.month}：{'—' if r.index is None else f'{r.index:.1f}'}",
             f"抽样并发送 {r.asked} 单，已回复 {r.answered} 单（完成 3 题 {r.completed} 单）"]
    for key, _, _ in coei.QUESTIONS:
        v = r.per_question.get(key)
        lines.append(f"  {LABELS[key]:<24}{'—' if v is None else f'{v:.1f}':>8}")
    return "\n".join(lines)


async def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        month = args.month or coei_survey.previous_month(coei_survey.month_of(today_in_china(utcnow())))
        coei_survey.month_start(month)
    except ValueError as exc:
        print(f"orderbot coei: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    sm = make_sessionmaker(engine)
    try:
        if args.send:
            asked = await ask_month(sm, settings, month)
            print(f"已向 {asked} 位客户发送 {month} 的回访问题（由 worker 推送；已问过的不再重复）。")
        async with sm() as s:
            result = await coei_survey.month_result(s, month)
    except Exception as exc:  # noqa: BLE001 — a clear line, not a traceback, for a bad database
        print(f"orderbot coei: cannot use the database: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    print(table(result))
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
