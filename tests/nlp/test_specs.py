from __future__ import annotations

import pytest

from nlp.specs import find_specs


@pytest.mark.parametrize(
    "text,key",
    [
        ("M6*20外六角", "6x20"),
        ("M6x20", "6x20"),
        ("M6×20", "6x20"),
        ("6*20", "6x20"),
        ("m6 20长", "6x20"),
        ("M8*1.25*30", "8x30"),
        ("ST4.2×16", "4.2x16"),
        ("M六乘二十", "6x20"),
        ("M16螺母", "16"),
        ("20*2.4", "20x2.4"),
        ("6201-2RS", "6201-2RS"),
        ("6205 2rs", "6205-2RS"),
        ("6204zz", "6204-ZZ"),
        ("6202-2Z", "6202-ZZ"),
        ("90915-YZZE1", "90915YZZE1"),
    ],
)
def test_spec_written_any_way_gives_one_key(text, key):
    assert [h.key for h in find_specs(text)][:1] == [key]


def test_a_spaced_times_sign_is_a_quantity_not_a_size():
    assert find_specs("朗逸1.5 ×20") == []


def test_a_count_is_not_a_bearing_number():
    assert [h for h in find_specs("M8螺母 6000个") if h.kind == "bearing"] == []
