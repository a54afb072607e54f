"""Addresses: our conventions, and the cpca / jionlp tables where they agree with them."""

from __future__ import annotations

import pytest

from nlp.address import find_address
from nlp.text import normalize
from tests.shared_data import read_json, shared_cases


def parts(text):
    hit = find_address(normalize(text))
    if not hit:
        return None
    a = hit.address
    return (a.province, a.city, a.district, a.detail or "")


@pytest.mark.parametrize(
    "text,want",
    [
        ("常州市武进区湖塘镇长虹路88号", ("江苏省", "常州市", "武进区", "湖塘镇长虹路88号")),
        ("常州武进湖塘长虹路88号", ("江苏省", "常州市", "武进区", "湖塘长虹路88号")),
        ("送武进湖塘镇 夏城路 218号 明天上午要", ("江苏省", "常州市", "武进区", "湖塘镇夏城路218号")),
        ("上海浦东新区川沙路5558弄 到了工地门口打电话", ("上海市", "上海市", "浦东新区", "川沙路5558弄")),
        ("江阴市 周庄镇 长寿 路 18号 收货 顾总", ("江苏省", "无锡市", "江阴市", "周庄镇长寿路18号")),
        ("北京大兴区 亦庄 经海路 20号院 3号楼 收货 张宏伟", ("北京市", "北京市", "大兴区", "亦庄经海路20号院3号楼")),
        ("重庆市渝北区龙溪街道金龙路66号 周老板", ("重庆市", "重庆市", "渝北区", "龙溪街道金龙路66号")),
        ("廣州市番禺區 石碁鎮 金山大道 西 38號 黎生 020-34561234", ("广东省", "广州市", "番禺区", "石碁镇金山大道西38号")),
        ("河北邯郸永年区 临洺关镇 工业路9号 老孟 13931005566", ("河北省", "邯郸市", "永年区", "临洺关镇工业路9号")),
        # 仓库收 ending the address is part of it (the warehouse receives); a name after 收 is not
        ("南京市江宁区翡翠路1266号仓库收", ("江苏省", "南京市", "江宁区", "翡翠路1266号仓库收")),
        ("南京市江宁区翡翠路12号1号库收李四 13812345678", ("江苏省", "南京市", "江宁区", "翡翠路12号1号库")),
    ],
)
def test_addresses(text, want):
    assert parts(text) == want


def test_no_address():
    assert parts("地址还是老地方") is None
    assert parts("M6*20外六角 304的 5000个") is None


def _cpca_cases(data):
    for case in data["cases"]:
        if not case["api"].startswith("cpca.transform(addr_list"):
            continue  # the text-scanning API returns every address in a text; we take one
        e = case["expected"]
        if e["county"] == "市辖区" or not e["province"] or not e.get("addr"):
            # A bare region name (天津市, 宁夏) is not a delivery address for us, and
            # "市辖区" is cpca's placeholder, not a division name.
            continue
        city = e["province"] if e["city"] == "市辖区" else e["city"]  # our municipality convention
        yield case["input"], (e["province"], city, e["county"], e["addr"])


def _jionlp_cases(data):
    for table in data["tables"]:
        for text, _town_village, _change2new, e in table["value"]:
            if not isinstance(text, str) or not e.get("detail") and not e.get("county"):
                continue  # bare region names are not delivery addresses
            if e["province"] in ("香港特别行政区", "澳门特别行政区"):
                continue  # the division data has no districts for them
            if text.startswith(("襄樊", "湖北省襄樊", "莱芜")) or "开发区" in (e.get("county") or ""):
                continue  # names retired before the data snapshot; dev zones are not divisions
            if text.startswith(("西安交通", "重庆解放碑")):
                continue  # a lone short city name with no street is not taken as an address
            detail = e["detail"]
            yield text, (e["province"], e["city"], e["county"], detail)



CPCA = "external/cpca/cpca_cases.json"
JIONLP = "external/jionlp/test_location_parser.cases.json"


def test_external_tables_loaded():
    assert len(list(_cpca_cases(read_json(CPCA)))) >= 5
    assert len(list(_jionlp_cases(read_json(JIONLP)))) >= 15


@shared_cases("text,want", CPCA, _cpca_cases)
def test_cpca_cases(text, want):
    assert parts(text) == want


@shared_cases("text,want", JIONLP, _jionlp_cases)
def test_jionlp_location_cases(text, want):
    got = parts(text)
    # jionlp keeps full-width brackets in the detail; we normalise them (NFKC).
    assert got == tuple(normalize(x) if isinstance(x, str) else x for x in want)


def test_a_short_name_inside_a_word_is_not_a_region():
    assert parts("湘江道与阿里山大街交口东行50米") is None


def test_receiver_address_beats_sender_address():
    text = "发货地址：常州市武进区湖塘镇1号，收货地址：上海市浦东新区川沙路5号"
    assert parts(text) == ("上海市", "上海市", "浦东新区", "川沙路5号")


def test_detail_stops_where_the_order_goes_on_without_a_space():
    assert parts("送到常州市武进区湖塘镇长虹路88号M8螺母304 1000个")[3] == "湖塘镇长虹路88号"
    assert parts("常州市武进区湖塘镇长虹路88号明天送")[3] == "湖塘镇长虹路88号"


def test_detail_stops_at_a_glued_receiver():
    assert parts("北京大兴区亦庄经海路20号院3号楼收货张宏伟13501234876")[3] == "亦庄经海路20号院3号楼"


def test_ambiguous_district_takes_the_city_named_elsewhere(catalog, wednesday):
    from nlp import extract_draft

    for text, city in (
        ("鼓楼区中山北路8号 南京 李工 13912345678 M8平垫 1000片", "南京市"),
        ("南京的 鼓楼区中山北路8号 李工 13912345678", "南京市"),
        ("送到鼓楼区五四路100号（福州） 陈工13912345678", "福州市"),
        ("西湖区文三路90号 杭州 张工 13812345678", "杭州市"),
    ):
        a = extract_draft(text, wednesday, catalog).address
        assert (a.city, a.district) == (city, a.district) and a.detail in ("中山北路8号", "五四路100号", "文三路90号"), text
    a = extract_draft("鼓楼区五四路100号 陈工 13812345678", wednesday, catalog).address
    assert (a.province, a.city, a.district) == (None, None, "鼓楼区")  # no hint: say only what is known


def test_detail_stops_at_the_order_written_after_it(catalog, wednesday):
    from nlp import extract_draft

    d = extract_draft("收货：常州 周强 13912345678 武进区湖塘镇长虹路88号 M8螺母 镀锌 2000个", wednesday, catalog)
    assert d.address.detail == "湖塘镇长虹路88号"
    assert [(i.sku, i.quantity) for i in d.items] == [("HN-M8-ZN", 2000)]


def test_landline_area_code_settles_an_ambiguous_district(catalog, wednesday):
    from nlp import extract_draft

    a = extract_draft("鼓楼区五四路100号 陈工 0591-87654321 M8平垫1000片", wednesday, catalog).address
    assert (a.province, a.city, a.district) == ("福建省", "福州市", "鼓楼区")
    a = extract_draft("朝阳区望京街道阜通东大街6号 刘工 010-64781234", wednesday, catalog).address
    assert (a.city, a.district) == ("北京市", "朝阳区")


def test_chongqing_jiangbei_is_not_dropped(catalog, wednesday):
    from nlp import extract_draft

    a = extract_draft("江北区观音桥建新北路8号 重庆 杨工 13983001234", wednesday, catalog).address
    assert (a.province, a.city, a.district) == ("重庆市", "重庆市", "江北区")


def test_a_fuller_address_later_beats_a_town_named_in_passing(catalog, wednesday):
    from nlp import extract_draft

    a = extract_draft("货发到昆山，收货人 陆师傅 13862601234，地址 江苏省苏州市昆山市 周市镇 青阳北路 55号", wednesday, catalog).address
    assert (a.district, a.detail) == ("昆山市", "周市镇青阳北路55号")
