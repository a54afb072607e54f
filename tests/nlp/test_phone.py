from __future__ import annotations

import pytest

from nlp.phone import find_phones, pick_phone
from nlp.text import normalize


def phone(text):
    t = normalize(text)
    hit = pick_phone(t, find_phones(t))
    return hit.digits if hit else None


@pytest.mark.parametrize(
    "text,want",
    [
        ("张工 138 1234 5678", "13812345678"),
        ("吴工 139-5168-7722", "13951687722"),
        ("+86 139 0574 1234", "13905741234"),
        ("+8613905741234", "13905741234"),
        ("电话幺三八一二三四五六七八", "13812345678"),
        ("电话0519-86881234", "051986881234"),
        ("(0519)86881234", "051986881234"),
        ("０２０－３４５６１２３４", "02034561234"),
    ],
)
def test_phone_forms(text, want):
    assert phone(text) == want


def test_receiver_and_mobile_preferred():
    assert phone("公司电话0519-86881234 收货人李工 手机13912345678") == "13912345678"
    assert phone("发货人王 13800000000，收货人张工 13912345678") == "13912345678"


def test_order_numbers_are_not_phones():
    assert phone("订单号2026030512345678") is None
