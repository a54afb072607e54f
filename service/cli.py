"""The `orderbot` command: one entry point, one small module per subcommand.

Each subcommand lives in `service/commands/<name>.py` and exposes
`configure(parser)` and `run(args) -> int`. Modules are imported only when their
command runs, so `orderbot extract` does not pay for the web stack and vice versa.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS: dict[str, str] = {
    "serve": "the web service (callbacks, mini-program API, hooks, health, metrics)",
    "worker": "the background worker (production profile)",
    "migrate": "apply database migrations",
    "import-catalog": "upsert products from a catalog CSV",
    "import-payments": "record payments from a CSV and match them to orders",
    "import-returns": "record returned deliveries from a CSV (they feed the return-rate hold rule)",
    "extract": "read order drafts out of JSONL messages (see contracts/extraction.md)",
    "standin": "a local stand-in for the WeChat, WeCom and mini-program server APIs",
    "demo": "migrate, seed demo data, start the stand-in and the service",
    "pushes": "list parked pushes (failed for good), or requeue one",
    "report": "desk metrics of the orders placed since 7d / a date, as a table or CSV",
    "coei": "the customer order experience index of a month, or ask its sample now (--send)",
}


def _module(name: str):
    return importlib.import_module(f"service.commands.{name.replace('-', '_')}")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orderbot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        # Only the chosen command's module is imported to add its options.
        if name == wanted:
            _module(name).configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    return int(_module(args.command).run(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
