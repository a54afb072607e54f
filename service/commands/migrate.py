"""`orderbot migrate`: bring the database (ORDERBOT_DATABASE_URL) to the latest migration.

Also `--check` (exit 1 when not at head, for deploy scripts) and `--make MESSAGE` (for
developers: autogenerate a new revision after changing the models).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy.engine import make_url

from orderbot.settings import get_settings


def configure(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--revision", default="head", help="target revision (default: head)")
    group.add_argument("--check", action="store_true", help="only report; exit 1 if not at head")
    group.add_argument("--make", metavar="MESSAGE", help="autogenerate a new revision from the models")


def _names(revs: tuple[str, ...]) -> str:
    return ", ".join(revs) or "(none)"


def run(args: argparse.Namespace) -> int:
    from orderbot import migrations

    url = get_settings().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    try:
        if args.check:
            current = asyncio.run(migrations.current_revisions(url))
            at_head = set(current) == set(migrations.head_revisions())
            print(f"{shown}: at {_names(current)}; head is {_names(migrations.head_revisions())}")
            return 0 if at_head else 1
        if args.make:
            script = asyncio.run(migrations.make_revision(args.make, url))
            print(f"wrote {script.path}" if script is not None else "no revision written")
            return 0
        before, after = asyncio.run(migrations.upgrade(url, args.revision))
    except migrations.MigrationRequired as exc:
        print(f"orderbot migrate: {exc}", file=sys.stderr)
        return 1
    if before == after:
        print(f"{shown}: already at {_names(after)}")
    else:
        print(f"{shown}: migrated {_names(before)} -> {_names(after)}")
    return 0
