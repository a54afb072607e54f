""".env.example documents every setting orderbot reads, and parses as the settings."""

from __future__ import annotations

from pathlib import Path

from dotenv import dotenv_values

from ocr.settings import OcrSettings
from orderbot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _env_names(model: type = Settings) -> set[str]:
    names = set()
    for field in model.model_fields.values():
        alias = field.validation_alias
        names.update(getattr(alias, "choices", [alias]))
    return {n for n in names if isinstance(n, str)}


def test_env_example_lists_every_setting() -> None:
    documented = set(dotenv_values(ROOT / ".env.example"))
    missing = (_env_names() | _env_names(OcrSettings)) - documented
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_env_example_values_are_valid_settings() -> None:
    values = {k: v for k, v in dotenv_values(ROOT / ".env.example").items() if v is not None}
    s = Settings(_env_file=None, **{k: v for k, v in values.items() if k in _env_names()})
    assert s.embedded  # the example starts in the embedded profile
    assert s.outbox_max_attempts >= 1
