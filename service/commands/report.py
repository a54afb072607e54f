"""`orderbot report`: the desk metrics of the orders placed in a window, as a table or CSV.

    orderbot report --since 7d              # also 24h, or a date: --since 2026-03-01
    orderbot report --since 30d --csv desk.csv

Measures are defined in orders/desk_metrics.py (state accuracy, exception response time,
manual touches per order, interception rate, confirmation time, stage timings), then the
latest surveyed month's customer order experience index (COEI, `orderbot coei`); days are
China calendar days of placement. Exit 2 when the since value or the database is unusable.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import re
import sys

from sqlmodel.ext.asyncio.session import AsyncSession

from orderbot.db import make_engine
from orderbot.desk_report import metrics_since
from orderbot.settings import get_settings
from orders import coei_survey
from orders.desk_metrics import DayMetrics, DeskMetrics, china_day, human_duration, percent
from orders.models import utcnow
from orders.numbering import SHANGHAI


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", default="7d", help="window: 7d, 24h, or a date YYYY-MM-DD (default 7d)")
    parser.add_argument("--csv", metavar="FILE", help="also write the per-day rows to this CSV file")


def parse_since(value: str, now: dt.datetime) -> dt.datetime:
    """7d / 24h → that long before `now`; YYYY-MM-DD → midnight of that day in China."""
    m = re.fullmatch(r"\s*(\d+)\s*([dh])\s*", value or "")
    if m:
        n = int(m.group(1))
        return now - (dt.timedelta(days=n) if m.group(2) == "d" else dt.timedelta(hours=n))
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"--since {value!r}: use 7d, 24h or a date like 2026-03-01") from None
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


def _seconds(v: float | None) -> str:
    return "" if v is None else f"{v:.0f}"


def _rate(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def table(m: DeskMetrics, days: list[DayMetrics], since: dt.datetime) -> str:
    lines = [f"订单运营指标（{china_day(since):%Y-%m-%d} 起下单的订单，共 {m.placed} 单）", ""]
    rows = [
        ("状态准确率", percent(m.state_accuracy), f"{m.external_agree}/{m.with_external} 单与外部系统最后状态一致"),
        ("异常响应时间（中位）", human_duration(m.response_median), f"{len(m.response_seconds)} 次挂起 → 放行/取消"),
        ("人工操作/单", "—" if m.touches_per_order is None else f"{m.touches_per_order:.2f}", f"{m.touches} 次"),
        ("拦截率", percent(m.interception_rate), f"{m.held}/{m.placed} 单被挂起"),
        ("确认用时（中位）", human_duration(m.confirmation_median), f"{len(m.confirmation_seconds)} 单已确认"),
    ]
    rows += [(f"环节 {name}（中位）", human_duration(v), f"{len(m.stage_seconds[name])} 单")
             for name, v in m.stage_medians().items()]
    width = max(len(r[0]) for r in rows) + 2
    lines += [f"{name:<{width}}{value:>10}   {note}" for name, value, note in rows]
    lines += ["", f"{'日期':<12}{'下单':>6}{'挂起':>6}{'拦截率':>9}{'确认中位':>12}{'响应中位':>12}{'操作/单':>9}"]
    for d in days:
        lines.append(f"{d.day:%Y-%m-%d}  {d.placed:>6}{d.held:>6}{percent(d.interception_rate):>9}"
                     f"{human_duration(d.confirmation_median):>12}{human_duration(d.response_median):>12}"
                     f"{'—' if d.touches_per_order is None else f'{d.touches_per_order:.2f}':>9}")
    return "\n".join(lines)


def coei_line(r: coei_survey.MonthResult | None) -> str:
    """The latest surveyed month's COEI (`orderbot coei` shows its parts)."""
    if r is None:
        return "客户订单体验指数（COEI）：还没有回访数据"
    value = "—" if r.index is None else f"{r.index:.1f}"
    return f"客户订单体验指数（COEI，{r.month}）：{value}   {r.answered}/{r.asked} 单回复"


def write_csv(path: str, days: list[DayMetrics]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["day", "placed", "held", "interception_rate", "confirmation_median_seconds",
                    "exception_response_median_seconds", "manual_touches_per_order"])
        for d in days:
            w.writerow([d.day.isoformat(), d.placed, d.held, _rate(d.interception_rate),
                        _seconds(d.confirmation_median), _seconds(d.response_median), _rate(d.touches_per_order)])


async def _run(args: argparse.Namespace) -> int:
    now = utcnow()
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        print(f"orderbot report: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(get_settings().database_url)
    try:
        m = await metrics_since(engine, since)
        async with AsyncSession(engine) as s:
            coei = await coei_survey.latest_result(s)
    except Exception as exc:  # noqa: BLE001 — a clear line, not a traceback, for a bad database
        print(f"orderbot report: cannot read the database: {exc}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    days = m.day_series(china_day(since), china_day(now))
    print(table(m, days, since))
    print("\n" + coei_line(coei))
    if args.csv:
        write_csv(args.csv, days)
        print(f"\n已写入 {args.csv}（{len(days)} 天）")
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
