"""`orderbot import-payments FILE.csv`: record payments (a bank export) and match them to orders.

Columns: reference (bank serial, unique), amount, and customer (id, name, company or phone)
and/or order (SO…); optional paid_at (2026-03-01 or ISO time, China time when no zone) and
note. Each row is recorded in its own transaction by orders.payments (the payment hook
records through the same code): a repeated reference is skipped, an order delivered and now
paid in full is closed. Bad rows are listed with their line number and the good rows kept.
Exit status: 0 all rows good, 1 some rows rejected, 2 the file or the database cannot be used.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from service.commands.csv_import import Rows, csv_rows, run_import

REQUIRED = ("reference", "amount")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.csv",
                        help="columns: reference, amount, customer and/or order, [paid_at], [note]")


@dataclass
class PaymentImport:
    recorded: int = 0
    repeated: int = 0
    matched: int = 0
    closed: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def read_rows(text: str) -> Rows:
    """(line number, row) for each data row; ValueError when the header lacks a column."""
    columns = "reference, amount, customer, order, paid_at, note"
    header, rows = csv_rows(text, REQUIRED, columns)
    if not {"customer", "order"} & set(header):
        raise ValueError(f"the header lacks customer or order (columns: {columns})")
    return rows


async def import_payments(sessionmaker, rows: list[tuple[int, dict[str, str]]]) -> PaymentImport:  # type: ignore[no-untyped-def]
    """Record each row in its own transaction; a bad row is rejected, the rest are kept."""
    from orders.errors import OrderError
    from orders.payments import PaymentError, PaymentIn, record_payment

    report = PaymentImport()
    for line, row in rows:
        data = PaymentIn(reference=row.get("reference", ""), amount=row.get("amount", ""),
                         customer=row.get("customer", ""), order=row.get("order", ""),
                         paid_at=row.get("paid_at") or None, note=row.get("note") or None)
        try:
            async with sessionmaker() as s, s.begin():
                done = await record_payment(s, data, source="import")
        except (PaymentError, OrderError) as exc:
            report.rejected.append((line, str(exc)))
            continue
        if not done.new:
            report.repeated += 1
            continue
        report.recorded += 1
        report.matched += done.order_number is not None
        if done.closed and done.order_number:
            report.closed.append(done.order_number)
    return report


def run(args: argparse.Namespace) -> int:
    report = run_import("import-payments", args.file, read_rows, import_payments)
    if isinstance(report, int):
        return report
    print(f"{args.file}: recorded {report.recorded} (matched to orders {report.matched}), "
          f"already recorded {report.repeated}, rejected {len(report.rejected)}; closed {len(report.closed)} orders")
    for number in report.closed:
        print(f"  closed {number} (delivered and paid)")
    for line, reason in report.rejected:
        print(f"  line {line}: {reason}")
    return 1 if report.rejected else 0
