"""Waybill lines: receiver name, phone and address glued together in any order."""

from __future__ import annotations

import datetime as dt

import pytest

from nlp import Catalog, extract_draft
from nlp.names import is_name, split_tail_name

TODAY = dt.date(2026, 3, 2)


def read(text: str):
    return extract_draft(text, TODAY, Catalog([]))


@pytest.mark.parametrize(
    "text,name,phone,detail",
    [
        ("浙江省温州市鹿城区五马街道解放路12号林晓东13757712345", "林晓东", "13757712345", "五马街道解放路12号"),
        ("18967123456钱美玲安徽省芜湖市镜湖区北京西路7号", "钱美玲", "18967123456", "北京西路7号"),
        ("江苏省南通市崇川区工农路99号华东大厦5楼13962712345欧阳倩", "欧阳倩", "13962712345", "工农路99号华东大厦5楼"),
        ("郑凯15851234567湖北省襄阳市樊城区春园路18号", "郑凯", "15851234567", "春园路18号"),
        ("13712345678广东省佛山市南海区桂城街道南海大道北28号谭嘉怡", "谭嘉怡", "13712345678", "桂城街道南海大道北28号"),
        ("四川省绵阳市涪城区临园路东段56号附3号司马南13512345678", "司马南", "13512345678", "临园路东段56号附3号"),
        ("河北省保定市竞秀区朝阳北大街与七一路交叉口往西200米杜娟18833312345", "杜娟", "18833312345", "朝阳北大街与七一路交叉口往西200米"),
        ("收货人黄海波13688881234福建省泉州市晋江市陈埭镇岸兜村", "黄海波", "13688881234", "陈埭镇岸兜村"),
    ],
)
def test_glued_waybill_lines(text, name, phone, detail):
    d = read(text)
    assert (d.contact, d.phone, d.address.detail) == (name, phone, detail)


def test_mobile_glued_to_house_number():
    d = read("湖南省株洲市天元区长江南路8-313812345678刘敏")
    assert (d.phone, d.contact, d.address.detail) == ("13812345678", "刘敏", "长江南路8-3")


def test_detail_continues_after_comma_only_with_address_words():
    d = read("陕西省西安市雁塔区科技路10号,B座1203室 13900001111 苏雨")
    assert d.address.detail == "科技路10号,B座1203室"
    d = read("陕西省西安市雁塔区科技路10号，明天送 13900001111 苏雨")
    assert d.address.detail == "科技路10号"


def test_titled_contact_elsewhere_keeps_the_detail_whole():
    d = read("送到江苏省无锡市梁溪区中山路8号王庄村 联系张工13912345678")
    assert d.contact == "张工"
    assert d.address.detail == "中山路8号王庄村"


def test_name_checks():
    assert is_name("上官淑娥") and is_name("廉冠") and not is_name("明天送") and not is_name("小区")
    assert split_tail_name("向阳路中段魏娜") == ("向阳路中段", "魏娜")
    assert split_tail_name("往东500米相丽") == ("往东500米", "相丽")
    assert split_tail_name("圣泽大街西段万隆国际商城西门") is None


@pytest.mark.parametrize(
    "text",
    [
        "林晓东(收) 13757712345 浙江省温州市鹿城区五马街道解放路12号",
        "浙江省 温州市 鹿城区 五马街道 解放路12号 林晓东收 13757712345",
        "林晓东，13757712345，浙江省温州市鹿城区五马街道解放路12号",
        "温州市鹿城区五马街道解放路12号林晓东收13757712345",
        "浙江省温州市鹿城区五马街道解放路12号，林晓东，+86 13757712345",
    ],
)
def test_receiver_marks_and_separators(text):
    d = read(text)
    assert (d.contact, d.phone, d.address.detail) == ("林晓东", "13757712345", "五马街道解放路12号")


def test_a_word_standing_alone_in_chat_is_no_name():
    d = read("明天 M8螺母 2000个 送到温州市鹿城区五马街道解放路12号 13757712345 谢谢")
    assert d.contact is None


def test_lone_word_on_a_waybill_line_is_the_name_even_with_a_rare_surname():
    assert read("13757712345 覃小龙 广西壮族自治区南宁市青秀区民族大道8号").contact == "覃小龙"
    assert read("浙江省温州市鹿城区五马街道解放路12号 明天 13757712345").contact is None


def test_a_place_at_the_end_of_the_address_is_not_split_off_as_a_name():
    d = read("送到常州市武进区湖塘镇长虹路88号李家湾 13812345678")
    assert (d.contact, d.address.detail) == (None, "湖塘镇长虹路88号李家湾")
