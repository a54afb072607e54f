"""The CSV reading and the run-against-the-database part shared by import-payments and import-returns.

One reader and one runner so both commands reject a bad file the same way (exit 2, nothing written)
and both refuse a database that needs migrating.
"""

from __future__ import annotations

import asyncio
import csv
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

Rows = list[tuple[int, dict[str, str]]]
Report = TypeVar("Report")


def csv_rows(text: str, required: Sequence[str], columns: str) -> tuple[list[str], Rows]:
    """The stripped header and (line number, row) for each data row; ValueError when a required column is missing."""
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise ValueError(f"the header lacks {', '.join(missing)} (columns: {columns})")
    rows = [(reader.line_num, {(k or "").strip(): (v or "").strip() for k, v in row.items()}) for row in reader]
    return header, rows


async def _against_database(url: str, rows: Rows, importer: Callable[[Any, Rows], Awaitable[Report]]) -> Report:
    from orderbot import migrations
    from orderbot.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        await migrations.ensure_current(engine)
        return await importer(make_sessionmaker(engine), rows)
    finally:
        await engine.dispose()


def run_import(
    command: str,
    path: Path,
    read_rows: Callable[[str], Rows],
    importer: Callable[[Any, Rows], Awaitable[Report]],
) -> Report | int:
    """The importer's report, or exit status 2 after saying on stderr why the file or database cannot be used."""
    from orderbot.migrations import MigrationRequired
    from orderbot.settings import get_settings

    try:
        rows = read_rows(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        print(f"orderbot {command}: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_against_database(get_settings().database_url, rows, importer))
    except MigrationRequired as exc:
        print(f"orderbot {command}: {exc}", file=sys.stderr)
        return 2
