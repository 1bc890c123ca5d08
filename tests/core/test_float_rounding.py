"""The float roundings (:func:`lot_rounder`, :func:`round_quantities`, :func:`round_prices`) equal
the decimal :func:`round_quantity` and :func:`round_price` on every input, and those equal exact
rational references written here."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.risk import lot_rounder, round_price, round_prices, round_quantities, round_quantity

LOTS = [1e-8, 1e-5, 1e-3, 0.01, 0.1, 0.2, 0.25, 0.3, 0.5, 1.0, 3.0, 0.03, 0.07, 1e-6, 100.0, 1e-30, 1e25,
        0.000123, 2.5e-7]

EDGES = [0.1 + 0.2, 0.3, 0.7 * 3, 2.9999999999999996, 3.0000000000000004, 0.29999999999999993, 1e-9,
         123456789.123456789, 0.0, -0.0, 5e-324, 1e300, 1e15, 2.0**53, 2.0**53 + 2, -0.3, -(0.1 + 0.2),
         float("nan"), float("inf"), float("-inf"), 1 - 2**-53, 0.5 - 2**-54]


def _reference(quantity: float, lot: float) -> float:
    """Whole lots toward zero, in exact rationals on the shortest text form of both numbers."""
    if lot <= 0:
        return quantity
    if not math.isfinite(quantity):
        return quantity
    lot_value = Fraction(repr(lot))
    lots = math.floor(Fraction(repr(abs(quantity))) / lot_value)
    return math.copysign(float(lots * lot_value), quantity) if lots else 0.0


def _same(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def _quantities(lot: float, rng: random.Random, count: int) -> list[float]:
    """Plain quantities, whole numbers of lots computed in floats (often a unit in the last place
    off the decimal), their float neighbours, and sums of tenths."""
    out = list(EDGES)
    for _ in range(count):
        kind = rng.random()
        if kind < 0.3:
            q = rng.uniform(0, 1e4) * rng.choice([1e-6, 1e-3, 1.0, 1e3])
        elif kind < 0.8:
            m = rng.randint(0, 10 ** rng.randint(1, 16))
            q = m * lot if rng.random() < 0.5 else float(repr(m * lot))
            q += rng.choice([0.0, 0.0, math.ulp(q), -math.ulp(q), 2 * math.ulp(q)])
        else:
            q = rng.randint(0, 100) * 0.1 + rng.randint(0, 100) * 0.2
        out.append(-q if rng.random() < 0.2 else q)
    return out


@pytest.mark.parametrize("lot", LOTS)
def test_float_rounding_equals_the_decimal_one(lot: float) -> None:
    quantities = _quantities(lot, random.Random(lot), 3000)
    scalar = lot_rounder(lot)
    vector = round_quantities(np.array(quantities), lot).tolist()
    for q, v in zip(quantities, vector, strict=True):
        expected = round_quantity(q, lot)
        assert _same(scalar(q), expected), (q, lot)
        assert _same(v, expected), (q, lot)
        if math.isfinite(q):
            assert _same(expected, _reference(q, lot)), (q, lot)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
       st.sampled_from(LOTS))
def test_any_quantity(quantity: float, lot: float) -> None:
    expected = _reference(quantity, lot)
    assert _same(round_quantity(quantity, lot), expected)
    assert _same(lot_rounder(lot)(quantity), expected)
    assert _same(float(round_quantities(np.array([quantity]), lot)[0]), expected)


@pytest.mark.parametrize(("quantity", "lot", "expected"), [
    (0.1 + 0.2, 0.1, 0.3), (0.3, 0.1, 0.3), (0.7 * 3, 0.1, 2.0), (2.9999999999999996, 1.0, 2.0),
    (0.123456789, 0.00001, 0.12345), (-1.57, 0.5, -1.5), (0.29999, 0.1, 0.2), (1e-9, 1e-8, 0.0),
])
def test_known_values(quantity: float, lot: float, expected: float) -> None:
    assert lot_rounder(lot)(quantity) == expected
    assert round_quantities(np.array([quantity]), lot)[0] == expected


@pytest.mark.parametrize("lot", [0.0, -1.0])
def test_no_lot_size_leaves_quantities_alone(lot: float) -> None:
    assert lot_rounder(lot)(0.123) == 0.123
    assert round_quantities(np.array([0.123, -2.5]), lot).tolist() == [0.123, -2.5]


def test_shapes_are_kept() -> None:
    grid = np.array([[0.31, 0.29], [1.05, -0.01]])
    assert round_quantities(grid, 0.1).tolist() == [[0.3, 0.2], [1.0, 0.0]]


TICKS = [0.01, 0.1, 0.5, 0.25, 1e-8, 1e-5, 0.05, 0.03, 1.0, 5.0, 0.001, 1e-30, 1e25, 0.00025]
PRICE_EDGES = [1.005, 123.455, 0.125, 2.675, 0.015, 0.045, 0.0, -0.0, -1.005, 5e-324, 1e300, 1e15 + 0.5,
               float("nan")]


def _price_reference(price: float, tick: float) -> float:
    """The nearest whole number of ticks, halves away from zero, in exact rationals on the shortest
    text form of both numbers."""
    step = Fraction(repr(tick))
    ratio = Fraction(repr(abs(price))) / step
    ticks = math.floor(ratio)
    if ratio - ticks >= Fraction(1, 2):
        ticks += 1
    return math.copysign(float(ticks * step), price)


def _prices(tick: float, rng: random.Random, count: int) -> list[float]:
    """Plain prices, and halves between ticks computed in floats (often a unit in the last place
    off the decimal half) with their float neighbours."""
    out = list(PRICE_EDGES)
    for _ in range(count):
        if rng.random() < 0.4:
            out.append(rng.uniform(0, 1e5) * rng.choice([1e-6, 1e-3, 1.0, 10.0]))
            continue
        half = (rng.randint(0, 10 ** rng.randint(1, 15)) + 0.5) * tick
        half = half if rng.random() < 0.5 else float(repr(half))
        out.append(half + rng.choice([0.0, 0.0, math.ulp(half), -math.ulp(half)]))
    return out


@pytest.mark.parametrize("tick", TICKS)
def test_float_price_rounding_equals_the_decimal_one(tick: float) -> None:
    prices = _prices(tick, random.Random(tick), 3000)
    vector = round_prices(np.array(prices), tick).tolist()
    for p, v in zip(prices, vector, strict=True):
        expected = round_price(p, tick)
        assert _same(v, expected), (p, tick)
        if math.isfinite(p):
            assert _same(expected, _price_reference(p, tick)), (p, tick)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9), st.sampled_from(TICKS))
def test_any_price(price: float, tick: float) -> None:
    expected = _price_reference(price, tick)
    assert _same(round_price(price, tick), expected)
    assert _same(float(round_prices(np.array([price]), tick)[0]), expected)


def test_known_prices() -> None:
    assert round_prices(np.array([1.005, 123.454, 0.1 + 0.2, np.nan]), 0.01).tolist()[:3] == [1.01, 123.45, 0.3]
    assert np.isnan(round_prices(np.array([np.nan]), 0.01)[0])
    assert round_prices(np.array([99.99]), 0.0).tolist() == [99.99]
