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


@pytest.mark.parametrize(
    "text,name,detail",
    [
        ("浙江省嘉兴市南湖区 中山东路 12号 (收) 屠思远 0573-82001234", "屠思远", "中山东路12号"),
        ("湖南省株洲市芦淞区建设北路5号（收）龙雨桐13807330000", "龙雨桐", "建设北路5号"),
        ("贵州省遵义市红花岗区 丁字口 8号收 冉小红 0851-28221234", "冉小红", "丁字口8号"),
        ("青海省西宁市城西区 五四西路 20号 格桑卓玛 13897100000", "格桑卓玛", "五四西路20号"),
        ("新疆乌鲁木齐市天山区解放南路9号 阿不都·热合曼 13999100000", "阿不都·热合曼", "解放南路9号"),
        ("新疆伊犁州伊宁市 新华西路 3号艾尼瓦尔·吐尔逊13999100000", "艾尼瓦尔·吐尔逊", "新华西路3号"),
        ("广东省佛山市顺德区 大良街道 凤山中路 6号 朴志勋 13800000000", "朴志勋", "大良街道凤山中路6号"),
    ],
)
def test_receive_markers_and_surnameless_names_leave_the_detail(text: str, name: str, detail: str) -> None:
    draft = extract_draft(text, TODAY, Catalog([]))
    assert (draft.contact, draft.address.detail if draft.address else None) == (name, detail)


def test_a_city_named_after_the_street_is_a_hint_not_the_detail() -> None:
    draft = extract_draft("M6螺母 两箱 送 鼓楼区 湖南路 8号 仓库 福州那边 0591-87001234", TODAY, Catalog([]))
    assert draft.address is not None
    assert (draft.address.city, draft.address.detail) == ("福州市", "湖南路8号仓库")


def test_a_position_word_before_the_phone_is_not_glued_into_a_name() -> None:
    # 医院旁边工棚: 边 ends 旁边; a name the list allows (须地, 司徒聿修) is still a name.
    assert contact("南京市秦淮区中山南路8号医院旁边工棚13512340000") is None
    assert contact("浙江省温州市平阳县万联路30号须地13512340000") == "须地"


def test_a_receiver_named_by_role_after_the_marker() -> None:
    assert contact("M6螺母 两箱 收货的是我们仓管小刘 电话 13512340000") == "小刘"
    assert contact("M6螺母 两箱 收货的是司机老孙 13512340000") == "老孙"


def test_a_mobile_read_aloud_with_dots_between_groups() -> None:
    d = extract_draft("M6螺母 两箱 电话幺三五点一二三四点零零零零", TODAY, Catalog([]))
    assert d.phone == "13512340000"
