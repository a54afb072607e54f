"""The layer check: which top-level package may import which, read from the source (AST).

    python -m tools.check_layers            # exit 1 on a forbidden import or a package cycle
    python -m tools.check_layers --graph    # print the package graph (edges with counts)

Every import counts — module level, inside functions, under TYPE_CHECKING — because each
is a dependency a reader has to follow. The layers, lowest first (docs/ARCHITECTURE.md):

    nlp                 reading words: pure functions, no I/O
    ocr                 reading images into text for nlp
    orders              the order hub: domain rules and the use cases (place_order, actions)
    orderbot            the platform: settings, stores, database, jobs API, metrics, standin
    bot, miniprogram_api, board  the channels: WeChat/WeCom callbacks and conversations, the
                        mini-program API, the managers' board
    workers             the outbox worker, its handler table and the pushes
    service             the composition root: the aiohttp app and the `orderbot` command

A package may import only packages in lower layers (the two channels not each other,
except miniprogram_api using bot.clients, the shared WeChat API clients, and bot's 看板
command using board.links for a manager's one-time link).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAYERS: list[set[str]] = [
    {"nlp"},
    {"ocr"},
    {"orders"},
    {"orderbot"},
    {"bot", "miniprogram_api", "board"},
    {"workers"},
    {"service"},
]
# Imports between packages of one layer that are allowed: (importer, module prefix).
SIDEWAYS: set[tuple[str, str]] = {("miniprogram_api", "bot.clients"), ("bot", "board.links")}

PACKAGES = sorted(set().union(*LAYERS))
RANK = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}


def imports(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer package, imported package) -> "module -> imported module" lines."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in RANK and top != pkg:
                        edges[(pkg, top)].append(f"{module} -> {name}")
    return edges


def forbidden(edges: dict[tuple[str, str], list[str]]) -> list[str]:
    """One line per import that goes up or sideways without being allowed."""
    bad = []
    for (src, dst), lines in sorted(edges.items()):
        if RANK[dst] < RANK[src]:
            continue
        for line in lines:
            imported = line.split(" -> ")[1]
            if RANK[dst] == RANK[src] and any(src == s and imported.startswith(p) for s, p in SIDEWAYS):
                continue
            bad.append(f"{line}  ({src} may not import {dst})")
    return bad


def cycles(edges: dict[tuple[str, str], list[str]]) -> list[list[str]]:
    """Package cycles (each as a path that comes back to its start), by depth-first search."""
    graph: dict[str, set[str]] = defaultdict(set)
    for src, dst in edges:
        graph[src].add(dst)
    found: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == path[0]:
                found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:  # each cycle once, from its smallest package
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_layers", description=__doc__.splitlines()[0])
    parser.add_argument("--graph", action="store_true", help="print the package graph")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    edges = imports(args.root)
    if args.graph:
        for (src, dst), lines in sorted(edges.items()):
            print(f"{src} -> {dst} ({len(lines)})")
    problems = forbidden(edges) + [" -> ".join(c) + "  (package cycle)" for c in cycles(edges)]
    for line in problems:
        print(line)
    if problems:
        print(f"layer check: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"layer check: {len(PACKAGES)} packages, {sum(len(v) for v in edges.values())} imports between them, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
