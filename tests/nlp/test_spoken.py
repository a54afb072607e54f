"""Voice-to-text: numbers read aloud, festivals, Cantonese and traditional text."""

from __future__ import annotations

import datetime as dt

from nlp import extract_draft
from nlp.text import as_written, normalize


def test_codes_and_decimals_read_aloud_become_digits_but_counts_do_not():
    assert normalize("外六角三零四的 十二点九级 五点五乘二十五") == "外六角304的 12.9级 5.5乘二十五"
    assert normalize("两千五 三百零四个 两点四十到 春城路二百八十八号") == "两千五 三百零四个 两点四十到 春城路二百八十八号"


def test_a_voice_order_with_spoken_sizes_grades_and_phone(catalog):
    text = "我要拉铆钉四乘十二不锈钢的二十盒钻尾丝五点五乘二十五镀锌的十盒电话幺五零五一五六七八九零"
    d = extract_draft(text, dt.date(2026, 7, 7), catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [("RV-4X12-304", 20, "盒"), ("STD-5.5X25-ZN", 10, "盒")]
    assert d.phone == "15051567890"


def test_lunar_festivals_resolve_to_their_day_in_that_year(catalog):
    d = extract_draft("M5螺母 镀锌 两万个 中秋节前到", dt.date(2026, 9, 10), catalog)
    assert d.delivery_date == "2026-09-25"
    d = extract_draft("M5螺母 镀锌 两万个 端午前到", dt.date(2026, 7, 1), catalog)
    assert d.delivery_date == "2027-06-09"  # this year's has passed


def test_talk_about_tomorrow_is_not_a_delivery_date(catalog):
    assert extract_draft("好的 收到 明天见", dt.date(2026, 11, 11), catalog).delivery_date is None


def test_traditional_address_detail_is_kept_as_written():
    assert as_written("天河北路233号中信广场", "送到 廣州市天河區 天河北路 233號 中信廣場") == "天河北路233號中信廣場"
    assert as_written("天河北路233号", "天河北路 233号") == "天河北路233号"


def test_short_waybill_labels_pick_the_receiver(catalog):
    text = "寄：张伟 13788889999 广东省深圳市龙岗区 五和大道 18号\n收：贺工 0731-28881234 湖南省株洲市天元区 泰山路 88号"
    d = extract_draft(text, dt.date(2026, 3, 4), catalog)
    assert (d.contact, d.phone, d.address.district) == ("贺工", "073128881234", "天元区")


def test_autonomous_prefecture_written_as_x_zhou(catalog):
    d = extract_draft("云南省红河州蒙自市 文澜镇 天马路 16号", dt.date(2026, 3, 4), catalog)
    assert (d.address.city, d.address.district, d.address.detail) == ("红河哈尼族彝族自治州", "蒙自市", "文澜镇天马路16号")


def test_a_table_of_contact_fields_and_a_delivery_column(catalog):
    text = "收件人 | 电话 | 地址\n牛海 | 13993112345 | 甘肃省兰州市七里河区 西津西路 16号\n货：M10螺母 304 600个"
    d = extract_draft(text, dt.date(2026, 5, 13), catalog)
    assert (d.contact, d.phone, d.address.district) == ("牛海", "13993112345", "七里河区")
    text = "品名\t规格\t数量\t交期\n六角螺母 304\tM10\t600\t2/14"
    d = extract_draft(text, dt.date(2026, 2, 10), catalog)
    assert d.delivery_date == "2026-02-14"
    assert [(i.sku, i.quantity) for i in d.items] == [("HN-M10-304", 600)]


def test_a_traditional_name_is_kept_as_written(catalog):
    d = extract_draft("M8螺母 304 1000個 收貨人 應先生 13857861234", dt.date(2026, 2, 17), catalog)
    assert d.contact == "應先生"


def test_a_broken_surrogate_from_a_client_does_not_crash_the_reader(catalog):
    d = extract_draft("M8螺母 304 \ud83d 100个", dt.date(2026, 2, 17), catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HN-M8-304", 100)]


def test_a_day_named_for_another_errand_is_not_the_delivery_date(catalog):
    d = extract_draft("你好，十一期间发货吗？节后要一批货，十月八号下单", dt.date(2026, 9, 30), catalog)
    assert d.delivery_date is None


def test_a_count_said_first_covers_only_its_own_line(catalog):
    text = "老板我要五百个M十乘四十的外六角十点九级的还有M十的尼龙螺母镀锌的五百个 9/5前送到 找我刘工 18970712345"
    d = extract_draft(text, dt.date(2026, 8, 27), catalog)
    assert [(i.sku, i.quantity) for i in d.items] == [("HB-M10X40-109", 500), ("NN-M10-ZN", 500)]
    assert (d.delivery_date, d.contact) == ("2026-09-05", "刘工")


def test_a_changed_date_wins_and_tonight_is_a_same_day_demand(catalog):
    d = extract_draft("周日前要到！今天周日？那就下周三前：6204-2RS 80只", dt.date(2026, 4, 12), catalog)
    assert d.delivery_date == "2026-04-15"
    d = extract_draft("M10*80膨胀 镀锌 400套 收货人 包工头 老吴 13761231234，今晚必须到", dt.date(2026, 1, 9), catalog)
    assert (d.delivery_date, d.rush, d.contact) == ("2026-01-09", True, "老吴")
    d = extract_draft("明年1月5号到 M10*30 內六角 12.9級 1200個", dt.date(2026, 12, 23), catalog)
    assert d.delivery_date == "2027-01-05"


def test_a_price_request_with_a_destination_city_is_not_an_order(catalog):
    d = extract_draft("请报价：M8*25 外六角 304 5000个，M8螺母 304 5000个，含税含运费到 杭州", dt.date(2026, 10, 21), catalog)
    assert d.items == [] and d.address is None


def test_cantonese_delivery_to_a_town_of_a_city_without_districts(catalog):
    text = "阿姐，聽日同我送6202-2RS一百只去东莞厚街镇 康乐南路 8号，陈生收，电话13412881234，唔该"
    d = extract_draft(text, dt.date(2026, 3, 26), catalog)
    assert (d.address.city, d.address.district, d.address.detail) == ("东莞市", None, "厚街镇康乐南路8号")
    assert (d.contact, d.delivery_date) == ("陈生", "2026-03-27")


def test_a_po_table_with_a_traditional_header(catalog):
    d = extract_draft("規格\t名稱\t數量\t單位\nM6*60\t膨脹螺栓 鍍鋅\t300\t套", dt.date(2026, 2, 27), catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [("EB-M6X60-ZN", 300, "套")]


def test_the_pack_a_price_is_asked_for_is_not_the_count_ordered(catalog):
    text = "M20*100 10.9级外六角 要多少钱一箱？如果不超过200一箱就要五箱，送到 唐山市路北区 建设北路 6号 收：常工 13832521234"
    d = extract_draft(text, dt.date(2026, 8, 7), catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [("HB-M20X100-109", 5, "箱")]
    assert d.address.detail == "建设北路6号"


def test_lunar_month_days_and_a_city_is_not_a_receiver_name(catalog):
    d = extract_draft("M16螺母 三百个，腊月二十前送到", dt.date(2026, 1, 23), catalog)
    assert d.delivery_date == "2026-02-07"
    d = extract_draft("M16螺母 三百个，二月十号前到货", dt.date(2026, 2, 2), catalog)
    assert d.delivery_date == "2026-02-10"  # a solar month: no 初/廿, no 正/冬/腊
    d = extract_draft("收货人：郑州 马师傅（电话 0371-55661234）\nM16螺母 三百个", dt.date(2026, 4, 17), catalog)
    assert d.contact == "马师傅"


def test_spoken_sizes_without_point_with_length_word_or_glued_material():
    # 五四乘十六: a diameter with its point dropped; M十二八十长: a thread size, then a length.
    assert normalize("钻尾 五四乘十六 二十盒") == "钻尾 5.4乘十六 二十盒"
    assert normalize("外六角M十二八十长的 三百个") == "外六角M12*80长的 三百个"
    assert normalize("螺母M十三一六 两箱") == "螺母M10 316 两箱"
    # A count before 乘 is not touched when it has a magnitude (两千乘…) or is one digit.
    assert normalize("二十乘二点四") == "二十乘2.4"


def test_a_voice_order_with_sizes_said_the_short_way(catalog):
    text = "外六角M十二六十长 镀锌 五百个 还有M十二五十长的 镀锌 三百个 拉钉三二乘八 铝的 五盒"
    d = extract_draft(text, dt.date(2026, 7, 7), catalog)
    assert [(i.sku, i.quantity, i.unit) for i in d.items] == [
        ("HB-M12X60-ZN", 500, "个"),
        ("HB-M12X50-ZN", 300, "个"),
        ("RV-3.2X8-AL", 5, "盒"),
    ]
