"""`orderbot import-returns FILE.csv`: record returned deliveries (a warehouse export).

Columns: order (SO…) and reason, both required; optional reference (the warehouse's return
number, RMA), returned_at (2026-03-01 or ISO time, China time when no zone) and note. Each
row is recorded in its own transaction by orders.returns (the order must have shipped; its
phone is kept with the return), so the phone-return-rate hold rule (orders/risk.py,
kind `return_rate`) counts it from the next order on. A row whose reference — or, without
one, whose order + returned_at + reason — was recorded before is skipped, so importing the
same file twice counts each return once. Bad rows are listed with their line number and the
good rows kept. Exit status: 0 all rows good, 1 some rows rejected, 2 the file or the
database cannot be used (like import-payments).
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from service.commands.csv_import import Rows, csv_rows, run_import

REQUIRED = ("order", "reason")
CHINA = ZoneInfo("Asia/Shanghai")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.csv",
                        help="columns: order, reason, [reference], [returned_at], [note]")


@dataclass
class ReturnImport:
    recorded: int = 0
    repeated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def read_rows(text: str) -> Rows:
    """(line number, row) for each data row; ValueError when the header lacks a column."""
    return csv_rows(text, REQUIRED, "order, reason, reference, returned_at, note")[1]


def parse_when(raw: str) -> dt.datetime | None:
    """2026-03-01 (China day) or an ISO time (China time without a zone); ValueError otherwise."""
    if not raw:
        return None
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"退货时间「{raw}」看不懂（例如 2026-03-01 或 2026-03-01T10:00:00+08:00）") from None
    return (when if when.tzinfo else when.replace(tzinfo=CHINA)).astimezone(dt.UTC)


async def import_returns(sessionmaker, rows: list[tuple[int, dict[str, str]]]) -> ReturnImport:  # type: ignore[no-untyped-def]
    """Record each row in its own transaction; a bad row is rejected, the rest are kept."""
    from sqlmodel import select

    from orders.actors import Actor
    from orders.errors import OrderError
    from orders.models import Order
    from orders.returns import find_return, record_return

    report = ReturnImport()
    actor = Actor.system("import:returns")
    for line, row in rows:
        number, reason = row.get("order", "").upper(), row.get("reason", "")
        note = row.get("note", "")
        try:
            if not number:
                raise ValueError("缺少订单号（order）")
            if not reason:
                raise ValueError("缺少退货原因（reason）")
            when = parse_when(row.get("returned_at", ""))
            reference = row.get("reference") or f"{number}|{row.get('returned_at', '')}|{reason}"
            async with sessionmaker() as s, s.begin():
                if await find_return(s, reference) is not None:
                    report.repeated += 1
                    continue
                order = (await s.exec(select(Order).where(Order.number == number))).first()
                if order is None or order.id is None:
                    raise ValueError(f"没有订单 {number}")
                text = f"{reason}（{note}）" if note else reason
                await record_return(s, order.id, actor, text, reference=reference[:200], at=when)
        except (ValueError, OrderError) as exc:
            report.rejected.append((line, getattr(exc, "message", None) or str(exc)))
            continue
        report.recorded += 1
    return report


def run(args: argparse.Namespace) -> int:
    report = run_import("import-returns", args.file, read_rows, import_returns)
    if isinstance(report, int):
        return report
    print(f"{args.file}: recorded {report.recorded}, already recorded {report.repeated}, "
          f"rejected {len(report.rejected)}")
    for line, reason in report.rejected:
        print(f"  line {line}: {reason}")
    return 1 if report.rejected else 0
