"""Who the contact is: words that sit where a name would (next to the phone, after 找 or
a title) but are no names, and names the surname list alone would miss."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft

TODAY = dt.date(2026, 3, 2)


def contact(text: str) -> str | None:
    return extract_draft(text, TODAY, Catalog([])).contact


@pytest.mark.parametrize(
    "text",
    [
        "M6螺母 两箱 车间里急用 电话13512340000",  # a word cut by the look-back window
        "M6螺母 两箱 到了给门卫打电话 0512-66771234",
        "M6螺母 两箱 杭州市西湖区文三路 9号 五金店 13512340000",  # a shop, no person
        "M6螺母 两箱 送 余杭区 良渚街道 好运街 7号 维修 0571-88112233",
        "收货：13512340000 M6螺母 两箱",  # a marker, no name
        "刚才问了师傅 M6螺母 要两箱",  # 了 is no surname
        "我们老板说M6螺母先不要了",  # 们 is no surname
        "张老板，这次的M6螺母 两箱 还是老地址",  # the seller addressed, and 老地址 is no 老X
    ],
)
def test_words_where_a_name_would_be_are_not_the_contact(text: str) -> None:
    assert contact(text) is None


@pytest.mark.parametrize(
    "text,name",
    [
        ("M6螺母 两箱 送 嘉定区 安亭镇 墨玉路 5号 有事找我 谷雨田 13512340000", "谷雨田"),
        ("收货人：慕容雪晴 13512340000 成都市武侯区 科华北路 3号", "慕容雪晴"),  # compound surname + two
        ("M6螺母 两箱 长沙市岳麓区 麓山路 2号 司徒 13512340000", "司徒"),  # a compound surname alone
        ("M6螺母 两箱 送 广州市荔湾区 中山八路 12号 区家豪 13512340000", "区家豪"),  # Cantonese surname 区
        ("M6螺母 两箱 送 景洪市 勐罕镇 曼听路 3号 岩温 13512340000", "岩温"),  # Dai naming
        ("hex nut M6 2 cartons, ship to 苏州市工业园区 星湖街 8号, attn: Grace Zhou 13512340000", "Grace Zhou"),
        ("hex nut M6 2 cartons, contact Ms. Wang 13512340000", "Ms. Wang"),
        ("hex nut M6 2 cartons. Peter 135-1234-0000", "Peter"),
    ],
)
def test_names_without_a_title_are_found(text: str, name: str) -> None:
    assert contact(text) == name
