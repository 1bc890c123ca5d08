"""Risk: sizing invariants, rounding to lots and ticks, exposure limits, the drawdown breaker,
and symbol properties read from Lean's real database."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphapulse.config import RiskSettings
from alphapulse.errors import ConfigError, DataError, NoDataError
from alphapulse.journal import Direction, Signal
from alphapulse.risk import (
    RiskBook,
    SymbolProperties,
    kelly_fraction,
    parse_symbol_properties,
    position_size,
    read_symbol_properties,
    round_price,
    round_quantity,
)

DAY = 86_400 * 1_000_000_000


def _signal(direction=Direction.LONG, entry=100.0, stop=95.0, symbol="BTCUSDT") -> Signal:
    return Signal("test", symbol, "binance", "1h", 0, direction, entry, stop,
                  entry + 2 * (entry - stop) if stop else None)


def test_size_is_risk_over_stop_distance():
    risk = RiskSettings(risk_per_trade=0.02, max_position=1.0)
    # 10,000 equity, 2% = 200 at risk, stop 5 away -> 40 units
    assert position_size(10_000, 100, 95, risk) == pytest.approx(40)


def test_size_is_capped_by_max_position():
    risk = RiskSettings(risk_per_trade=0.02, max_position=0.15)
    # uncapped 40 units = 4,000 > 15% of 10,000 = 1,500 -> 15 units
    assert position_size(10_000, 100, 95, risk) == pytest.approx(15)


def test_size_respects_lot_size_and_minimums():
    risk = RiskSettings(risk_per_trade=0.02, max_position=1.0)
    lots = SymbolProperties("BTCUSDT", lot_size=0.001, min_notional=5.0, tick_size=0.01)
    assert position_size(10_000, 30_000, 29_000, risk, lots) == 0.2  # 200 / 1000 = 0.2 exactly
    assert position_size(10_000, 30_000, 29_123, risk, lots) == 0.228  # 0.22805... rounded down
    tiny = SymbolProperties("BTCUSDT", lot_size=0.001, min_notional=100.0)
    assert position_size(100, 30_000, 29_000, risk, tiny) == 0.0  # 0.002 BTC = 60 USDT < 100
    assert position_size(10, 30_000, 29_000, risk, tiny) == 0.0  # 0.0002 -> below one lot
    minimum = SymbolProperties("SPY", lot_size=1, min_order_size=10)
    assert position_size(10_000, 100, 95, risk, minimum) == 40
    assert position_size(1_000, 100, 95, risk, minimum) == 0.0  # 4 shares < 10


def test_size_is_zero_for_degenerate_input():
    risk = RiskSettings()
    assert position_size(10_000, 100, 100, risk) == 0.0
    assert position_size(0, 100, 95, risk) == 0.0
    assert position_size(10_000, 100, -1, risk) == 0.0


@settings(max_examples=200, deadline=None)
@given(equity=st.floats(100, 1e7), entry=st.floats(0.01, 1e5), stop_frac=st.floats(0.001, 0.5),
       risk_per_trade=st.floats(0.001, 0.1), max_position=st.floats(0.01, 1.0),
       lot_exp=st.integers(-8, 0), short=st.booleans())
def test_sizing_invariants(equity, entry, stop_frac, risk_per_trade, max_position, lot_exp, short):
    stop = entry * (1 + stop_frac) if short else entry * (1 - stop_frac)
    risk = RiskSettings(risk_per_trade=risk_per_trade, max_position=max_position)
    lot = 10.0 ** lot_exp
    props = SymbolProperties("X", lot_size=lot)
    quantity = position_size(equity, entry, stop, risk, props)
    assert quantity >= 0
    # never more at risk than risk_per_trade, never a bigger position than max_position
    assert quantity * abs(entry - stop) <= equity * risk_per_trade * (1 + 1e-9)
    assert quantity * entry <= equity * max_position * (1 + 1e-9)
    # whole lots, and rounding lost less than one lot
    lots = quantity / lot
    assert abs(lots - round(lots)) <= 1e-9 * max(1.0, lots)
    raw = position_size(equity, entry, stop, risk)
    assert raw - quantity < lot * (1 + 1e-9)


@pytest.mark.parametrize(("quantity", "lot", "expected"), [
    (0.123456789, 0.00001, 0.12345), (3.0, 0.1, 3.0), (0.3, 0.1, 0.3), (0.29999, 0.1, 0.2),
    (-1.57, 0.5, -1.5), (7.9, 1, 7.0), (0.5, 0, 0.5), (0.00000001, 0.00000001, 0.00000001),
])
def test_round_quantity_down_to_the_lot(quantity, lot, expected):
    assert round_quantity(quantity, lot) == expected


@pytest.mark.parametrize(("price", "tick", "expected"), [
    (123.456, 0.01, 123.46), (123.454, 0.01, 123.45), (0.1 + 0.2, 0.1, 0.3), (101.3, 0.5, 101.5),
    (99.99, 0, 99.99),
])
def test_round_price_to_the_tick(price, tick, expected):
    assert round_price(price, tick) == expected


def test_kelly_fraction_and_its_cap():
    assert kelly_fraction(0.5, 2.0) == pytest.approx(0.25)
    assert kelly_fraction(0.3, 1.0) < 0
    with pytest.raises(ConfigError):
        kelly_fraction(1.5, 1.0)
    capped = RiskSettings(risk_per_trade=0.05, max_position=1.0, kelly_fraction=0.1)
    # 10% of a 0.25 Kelly bet = 2.5% risk instead of 5%
    assert position_size(10_000, 100, 95, capped, kelly=0.25) == pytest.approx(50)
    assert position_size(10_000, 100, 95, capped, kelly=-0.1) == 0.0


def test_book_limits_symbol_and_portfolio_exposure():
    risk = RiskSettings(risk_per_trade=0.02, max_position=0.15, max_symbol_exposure=0.2,
                        max_portfolio_exposure=0.25)
    book = RiskBook(risk)
    book.mark_equity(10_000, 0)
    first = book.size(_signal())
    assert first.quantity == pytest.approx(15)  # capped at 1,500 by max_position
    book.on_fill("BTCUSDT", first.quantity, 100)
    second = book.size(_signal())
    assert second.quantity == pytest.approx(5)  # 2,000 symbol limit - 1,500 held
    book.on_fill("BTCUSDT", second.quantity, 100)
    refused = book.size(_signal())
    assert not refused.accepted and "symbol exposure" in refused.reason
    # another symbol: the portfolio limit (2,500) leaves 500
    assert book.size(_signal(symbol="ETHUSDT")).quantity == pytest.approx(5)
    book.mark_price("BTCUSDT", 50)  # exposure falls with the price
    assert book.exposure("BTCUSDT") == pytest.approx(1_000)
    book.on_fill("BTCUSDT", -20, 50)
    assert book.position("BTCUSDT") == 0 and book.exposure() == 0


def test_book_refuses_shorts_unless_allowed_and_flat_signals():
    book = RiskBook(RiskSettings())
    book.mark_equity(10_000, 0)
    short = _signal(Direction.SHORT, 100, 105)
    assert "not allowed" in book.size(short).reason
    allowed = RiskBook(RiskSettings(allow_short=True, max_position=1.0))
    allowed.mark_equity(10_000, 0)
    assert allowed.size(short).quantity == pytest.approx(-40)
    flat = Signal("test", "BTCUSDT", "binance", "1h", 0, Direction.FLAT)
    assert book.size(flat).quantity == 0


def test_drawdown_breaker_trips_and_resets_next_day():
    book = RiskBook(RiskSettings(max_drawdown=0.1))
    book.mark_equity(10_000, 0)
    book.mark_equity(9_500, 3600 * 10**9)
    assert not book.halted and book.drawdown == pytest.approx(0.05)
    book.mark_equity(8_900, 2 * 3600 * 10**9)
    assert book.halted
    refused = book.size(_signal())
    assert not refused.accepted and "drawdown breaker" in refused.reason
    book.mark_equity(8_950, 3 * 3600 * 10**9)  # same day: still halted
    assert book.halted
    book.mark_equity(8_950, DAY + 60 * 10**9)  # a new UTC day re-bases the peak
    assert not book.halted and book.peak_equity == 8_950
    assert book.size(_signal()).accepted


def test_drawdown_breaker_never_reset_waits_for_a_new_peak():
    book = RiskBook(RiskSettings(max_drawdown=0.1, drawdown_reset="never"))
    book.mark_equity(10_000, 0)
    book.mark_equity(8_000, DAY)
    book.mark_equity(8_000, 5 * DAY)
    assert book.halted
    book.mark_equity(10_001, 6 * DAY)
    assert not book.halted


def test_book_rejects_nan_equity():
    with pytest.raises(DataError, match="not a finite number"):
        RiskBook(RiskSettings()).mark_equity(math.nan)


def test_symbol_properties_from_leans_database(lean_data):
    btc = read_symbol_properties(lean_data, "binance", "BTCUSDT")
    assert (btc.lot_size, btc.tick_size, btc.min_notional, btc.quote_currency) == (0.00001, 0.01, 5.0, "USDT")
    coinbase = read_symbol_properties(lean_data, "coinbase", "btcusd")
    assert (coinbase.lot_size, coinbase.min_order_size, coinbase.min_notional) == (1e-8, 1e-8, 0.0)
    spy = read_symbol_properties(lean_data, "usa", "SPY", "equity")  # from the usa [*] row
    assert (spy.symbol, spy.lot_size, spy.tick_size) == ("SPY", 1.0, 0.01)
    with pytest.raises(NoDataError, match="no crypto row for NOPE on binance"):
        read_symbol_properties(lean_data, "binance", "NOPE")
    with pytest.raises(NoDataError, match="no symbol properties database"):
        read_symbol_properties(lean_data / "crypto", "binance", "BTCUSDT")


def test_symbol_properties_parser_names_a_bad_line():
    lines = ["market,symbol,type,description,quote_currency,contract_multiplier,minimum_price_variation,"
             "lot_size,market_ticker,minimum_order_size", "# comment", "",
             "binance,BTCUSDT,crypto,BTCUSDT,USDT,1,0.01,0.00001,BTCUSDT,5",
             "binance,ETHUSDT,crypto,ETHUSDT,USDT,1,abc,0.0001,ETHUSDT,5"]
    with pytest.raises(DataError, match=r"line 5 .*bad number"):
        parse_symbol_properties(lines)
    with pytest.raises(DataError, match="line 1 has 3 columns"):
        parse_symbol_properties(["a,b,c"])
    table = parse_symbol_properties(lines[:4])
    assert table[("binance", "btcusdt", "crypto")].min_notional == 5.0
