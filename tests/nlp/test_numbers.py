"""Numerals and quantities; cn2an's own table where it matches how orders are written."""

from __future__ import annotations

import pytest

from nlp.numbers import parse_number, spoken_digits_to_arabic
from tests.shared_data import read_json, shared_cases


@pytest.mark.parametrize(
    "text,value",
    [
        ("五千", 5000),
        ("两千五", 2500),
        ("一百二十", 120),
        ("1.5万", 15000),
        ("2w", 20000),
        ("3K", 3000),
        ("1千2", 1200),
        ("5,000", 5000),
        ("2万5", 25000),
        ("半", 0.5),
    ],
)
def test_quantities_people_type(text, value):
    assert parse_number(text) == value


def test_not_a_number():
    assert parse_number("螺母") is None
    assert parse_number("") is None


def test_spoken_phone_digits_become_arabic_but_short_numbers_stay():
    assert spoken_digits_to_arabic("幺三八 一二三四 五六七八") == "138 1234 5678"
    assert spoken_digits_to_arabic("要一千个 五一前") == "要一千个 五一前"


def _cn2an_cases(data):
    for table in data["tables"]:
        # Only the strict/normal/smart tables of plain Chinese numerals apply: orders use
        # counts, so negatives, decimals written with 点 and capital (大写) digits are out.
        if table["name"] not in ("self.strict_data_dict", "self.normal_data_dict", "self.smart_data_dict"):
            continue
        for text, value in table["value"]:
            if not isinstance(value, (int, float)) or value <= 0:
                continue
            if any(ch in text for ch in "负点壹贰叁肆伍陆柒捌玖拾佰仟廿卅"):
                continue
            yield text, value




CN2AN = "external/cn2an/cn2an_test.cases.json"


def test_cn2an_table_is_loaded():
    assert len(list(_cn2an_cases(read_json(CN2AN)))) > 50


@shared_cases("text,value", CN2AN, _cn2an_cases)
def test_cn2an_cases(text, value):
    assert parse_number(text) == pytest.approx(value)
