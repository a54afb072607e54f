from __future__ import annotations

import pytest

from nlp.fields import find_company, find_contact, is_rush
from nlp.phone import find_phones, pick_phone
from nlp.text import normalize


def contact(text):
    t = normalize(text)
    p = pick_phone(t, find_phones(t))
    return find_contact(t, p.start if p else None, p.end if p else None)


@pytest.mark.parametrize(
    "text,want",
    [
        ("收货人张工 138 1234 5678", "张工"),
        ("我是采购小陈，下单。收货人写王师傅 13776543210", "王师傅"),
        ("联系人：马超\n电话：15597651234", "马超"),
        ("西安未央区 凤城九路\n王斌 13891234567", "王斌"),
        ("电话13357192468 杨工", "杨工"),
        ("这周三要 电话 15261101234 老周", "老周"),
        ("重庆市渝北区金龙路66号 周老板 158 2308 6677", "周老板"),
        ("石碁镇金山大道西38号 黎生 020-34561234", "黎生"),
    ],
)
def test_contact(text, want):
    assert contact(text) == want


@pytest.mark.parametrize("text", ["上周的货收到了 谢谢老板", "老板在吗？过年前还发货不", "师傅 膨胀螺丝要镀锌的"])
def test_greetings_are_not_contacts(text):
    assert contact(text) is None


@pytest.mark.parametrize(
    "text,want",
    [
        ("工地急用", True),
        ("越快越好！！", True),
        ("明天要 急", True),
        ("十万火急", True),
        ("今天必须发", True),
        ("元旦前送到就行，不急。", False),
        ("唔急", False),
        ("国庆前一定要到", False),
        ("后天能到最好", False),
    ],
)
def test_rush(text, want):
    assert is_rush(normalize(text)) is want


def test_company():
    assert find_company("常州恒锐五金有限公司 采购单") == "常州恒锐五金有限公司"
    assert find_company("M6螺母 1000个") is None


def test_bare_name_after_the_phone():
    assert contact("M8螺母304 100个 13712345678 李四") == "李四"
    assert contact("M8螺母304 100个 电话13712345678，明天到") is None


def test_cantonese_mr():
    assert contact("寄到东莞市长安镇振安中路123号，刘生，电话 13600001111") == "刘生"


def test_title_characters_inside_words_are_not_names():
    text = "[2026-03-04 10:23:15] 王工：下周一，送到苏州工业园区星湖街328号 13812345678"
    assert contact(text) == "王工"


@pytest.mark.parametrize(
    "text,want",
    [
        ("到了工地门口打电话陈师傅18621710098", "陈师傅"),
        ("临洺关镇工业路9号老孟13931005566", "老孟"),
    ],
)
def test_names_glued_to_the_phone(text, want):
    assert contact(text) == want


def test_a_greeted_name_is_not_the_contact(catalog, wednesday):
    from nlp import extract_draft

    assert extract_draft("李姐好，M8螺母304 两千个，地址杭州市西湖区文三路90号，电话13812345678", wednesday, catalog).contact is None
    assert extract_draft("王总您好 M8螺母 两千个 收货人张工 13812345678", wednesday, catalog).contact == "张工"


def test_a_place_is_not_a_name_and_的_does_not_hide_one(catalog, wednesday):
    from nlp import extract_draft

    assert extract_draft("苏州 13912345678 吴中区木渎镇金枫路8号 M8螺母 镀锌 1000个", wednesday, catalog).contact is None
    assert extract_draft("宁波的王经理 要 M8*30外六角 304 500个 送北仑区明州路8号 13905741234", wednesday, catalog).contact == "王经理"
