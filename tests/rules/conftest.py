"""A hub world whose sessions carry a price table and a risk table written in the test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from orderbot.db import make_sessionmaker
from orderbot.price_rules import price_rules_file
from orderbot.risk_rules import risk_rules_file
from orders.repricing import PRICE_RULES, RISK_RULES
from tests.orders.hub_factories import World, build_world


@dataclass
class Tables:
    prices: Path
    risk: Path

    def write(self, prices: dict[str, Any] | None = None, risk: dict[str, Any] | None = None) -> None:
        if prices is not None:
            self.prices.write_text(yaml.safe_dump(prices, allow_unicode=True), encoding="utf-8")
        if risk is not None:
            self.risk.write_text(yaml.safe_dump(risk, allow_unicode=True), encoding="utf-8")


@pytest.fixture
async def ruled(engine: AsyncEngine, tmp_path: Path) -> tuple[World, Tables]:
    """The order-hub world, its sessions reading the two table files in tmp_path."""
    tables = Tables(tmp_path / "prices.yaml", tmp_path / "risk.yaml")
    tables.write({"version": "t"}, {"version": "t", "rules": []})
    world = await build_world(engine)
    world.sm = make_sessionmaker(engine, {PRICE_RULES: price_rules_file(tables.prices),
                                          RISK_RULES: risk_rules_file(tables.risk)})
    return world, tables


def tables_in_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prices: str, risk: str) -> None:
    """Write the two tables and point ORDERBOT_PRICE_RULES / ORDERBOT_RISK_RULES at them, as an
    operator would; the service's Settings read them when the fixture builds the app."""
    (tmp_path / "p.yaml").write_text(prices, encoding="utf-8")
    (tmp_path / "r.yaml").write_text(risk, encoding="utf-8")
    monkeypatch.setenv("ORDERBOT_PRICE_RULES", str(tmp_path / "p.yaml"))
    monkeypatch.setenv("ORDERBOT_RISK_RULES", str(tmp_path / "r.yaml"))
