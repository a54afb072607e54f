"""`orderbot extract --catalog FILE.csv`: JSONL requests in, JSONL drafts out.

See ../shared/contracts/extraction.md. One output line per input line, in order; a
bad line gives {"id": null, "error": ...} and the run goes on; exit 0 unless the
catalog cannot be read. Lines with "image" go through ocr.pipeline (imported only
then, so text-only runs never load the OCR engine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any, TextIO

TZ = "Asia/Shanghai"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", required=True, help="catalog CSV (sku,name,category,spec,...)")
    parser.add_argument("--input", "-i", default="-", help="requests JSONL (default: stdin)")
    parser.add_argument("--output", "-o", default="-", help="drafts JSONL (default: stdout)")


def _today(value: Any) -> dt.date:
    if value:
        return dt.date.fromisoformat(str(value)[:10])
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(TZ)).date()


def process_line(line: str, catalog, extract_draft) -> dict[str, Any]:
    """One request line → one output object (never raises)."""
    try:
        req = json.loads(line)
    except json.JSONDecodeError as e:
        return {"id": None, "error": f"not JSON: {e.msg}"}
    if not isinstance(req, dict) or req.get("id") in (None, ""):
        return {"id": None, "error": "no id"}
    rid = req["id"]
    try:
        today = _today(req.get("today"))
    except (ValueError, TypeError):
        today = _today(None)  # a line with an id always gets a draft; relative dates use today
    text = req.get("text")
    image = req.get("image")
    if text is not None and not isinstance(text, str):
        text = str(text)
    try:
        if image:
            draft = _from_image(str(image), today, catalog, text)
            if isinstance(draft, dict):
                return {"id": rid, **draft}
        else:
            draft = extract_draft(text or "", today, catalog)
    except Exception as e:  # one bad message must not stop the run
        return {"id": rid, "error": f"{type(e).__name__}: {e}"}
    return {"id": rid, "draft": draft.to_dict()}


def _from_image(path: str, today: dt.date, catalog, text: str | None):
    try:
        from ocr.pipeline import draft_from_image
    except ImportError as e:
        return {"error": f"OCR is not available: {e}"}
    draft = draft_from_image(path, today=today, catalog=catalog)
    if text:
        from nlp import extract_draft

        extra = extract_draft(text, today, catalog)
        if not draft.items:
            draft.items = extra.items
        for field in ("contact", "company", "phone", "address", "delivery_date", "remarks"):
            if not getattr(draft, field) and getattr(extra, field):
                setattr(draft, field, getattr(extra, field))
        draft.rush = draft.rush or extra.rush
    return draft


def run_stream(inp: TextIO, out: TextIO, catalog) -> None:
    from nlp import extract_draft

    for line in inp:
        if not line.strip():
            continue
        obj = process_line(line, catalog, extract_draft)
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        out.flush()


def run(args: argparse.Namespace) -> int:
    from nlp import Catalog

    try:
        catalog = Catalog.from_csv(args.catalog)
    except (OSError, UnicodeDecodeError, ValueError) as e:
        print(f"orderbot extract: cannot read catalog {args.catalog}: {e}", file=sys.stderr)
        return 2
    inp = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")  # noqa: SIM115
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        run_stream(inp, out, catalog)
    finally:
        if inp is not sys.stdin:
            inp.close()
        if out is not sys.stdout:
            out.close()
    return 0
