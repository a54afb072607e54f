"""Preprocessing levels tilted faxes, cleans speckles, and resizes what is too small or big."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ocr.preprocess import estimate_skew, is_bilevel, prepare, remove_speckles, resize_for_ocr
from ocr.testforms import damage
from ocr.testforms.content import load_products, make_order
from ocr.testforms.render import render


@pytest.fixture(scope="module")
def pages(fonts, catalog_csv):
    rng = random.Random(11)
    products = load_products(catalog_csv)
    out = []
    for template, font in (("plain", fonts[0]), ("bordered", fonts[-1])):
        page = render(make_order(rng, products), font, template, rng)
        out.append(damage._resize_dpi(np.asarray(page), 150))
    return out


@pytest.mark.parametrize("angle", [-5.0, -2.5, 1.2, 3.0, 5.0])
def test_skew_is_measured_on_a_speckled_streaky_fax(pages, angle):
    for page in pages:
        fax = damage._binarise_with_speckles(page, random.Random(3), angle=angle)
        assert estimate_skew(fax) == pytest.approx(-angle, abs=0.3)


def test_prepare_levels_a_tilted_fax(pages):
    fax = damage._binarise_with_speckles(pages[0], random.Random(4), angle=2.5)
    prepared = prepare(fax)
    assert prepared.bilevel and prepared.denoised
    assert abs(prepared.skew + 2.5) < 0.3
    assert abs(estimate_skew(prepared.image)) < 0.3


def test_isolated_dots_go_but_thin_strokes_stay():
    img = np.full((200, 200), 255, np.uint8)
    img[100, 20:180] = 0                    # a one-pixel stroke
    img[50, 50] = img[150, 150] = 0         # two specks far from any ink
    img[101, 100] = 0                       # a dot touching the stroke is part of it
    out = remove_speckles(img)
    assert out[50, 50] == 255 and out[150, 150] == 255
    assert (out[100, 20:180] == 0).all() and out[101, 100] == 0


def test_low_resolution_pages_are_upscaled_and_huge_photos_shrunk():
    small, s1 = resize_for_ocr(np.full((900, 640), 255, np.uint8))
    big, s2 = resize_for_ocr(np.full((4000, 3000), 255, np.uint8))
    same, s3 = resize_for_ocr(np.full((1754, 1240), 255, np.uint8))
    assert s1 > 1.5 and max(small.shape) > 1600
    assert s2 < 0.5 and max(big.shape) <= 2200
    assert s3 == 1.0 and same.shape == (1754, 1240)


def test_grayscale_photos_are_not_treated_as_faxes():
    rng = np.random.default_rng(0)
    photo = np.clip(rng.normal(180, 30, (300, 300)), 0, 255).astype(np.uint8)
    fax = np.where(rng.random((300, 300)) < 0.1, 0, 255).astype(np.uint8)
    assert not is_bilevel(photo) and is_bilevel(fax)
