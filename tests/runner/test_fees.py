"""Fee models per market, against Lean's fee model rules worked out by hand."""

from __future__ import annotations

import pytest

from alphapulse.bars import parse_time
from alphapulse.errors import ConfigError
from alphapulse_tools.runner.fees import LIMIT, MARKET, STOP_MARKET, fee_model_for


def test_binance_is_a_tenth_of_a_percent_of_value() -> None:
    fee = fee_model_for("binance")
    assert fee.fee(0.5, 40_000.0, MARKET, 0) == pytest.approx(20.0)
    assert fee.fee(-0.5, 40_000.0, LIMIT, 0) == pytest.approx(20.0)


@pytest.mark.parametrize(("shares", "price", "expected"), [
    (100, 50.0, 1.0),        # 100 x $0.005 = $0.50 -> the $1 minimum
    (1_000, 50.0, 5.0),      # $5.00, under 1 % of $50,000
    (10_000, 0.20, 20.0),    # $50 per share fee capped at 1 % of $2,000 = $20
    (10, 0.05, 1.0),         # the minimum applies even above 1 % of the $0.50 value (Lean's order)
])
def test_us_equities_per_share_with_minimum_and_cap(shares: int, price: float, expected: float) -> None:
    assert fee_model_for("usa").fee(shares, price, MARKET, 0) == pytest.approx(expected)


@pytest.mark.parametrize(("when", "order_type", "rate"), [
    ("2018-06-01T00:00:00Z", MARKET, 0.003), ("2018-06-01T00:00:00Z", LIMIT, 0.0),
    ("2019-05-01T00:00:00Z", STOP_MARKET, 0.0025), ("2019-05-01T00:00:00Z", LIMIT, 0.0015),
    ("2024-01-01T00:00:00Z", MARKET, 0.008), ("2024-01-01T00:00:00Z", LIMIT, 0.006),
])
def test_coinbase_schedule_by_date_maker_and_taker(when: str, order_type: str, rate: float) -> None:
    assert fee_model_for("coinbase").fee(2.0, 1_000.0, order_type, parse_time(when)) == pytest.approx(2_000 * rate)


def test_unknown_market() -> None:
    with pytest.raises(ConfigError, match="kraken"):
        fee_model_for("kraken")
