"""Fee models per market, following Lean's default fee models.

* ``binance``: :class:`PercentOfValueFee` 0.1 % of the traded value (Lean's ``BinanceFeeModel``,
  maker and taker alike), in the quote currency.
* ``coinbase``: :class:`CoinbaseFee`, Lean's ``CoinbaseFeeModel`` schedule by date: taker 0.3 %
  / maker 0 before 2019-03-23 01:30 UTC, taker 0.25 % / maker 0.15 % until 2019-10-08 00:30 UTC,
  then taker 0.8 % / maker 0.6 % (Advanced Trade level 1). Market and stop-market orders are takers,
  resting limit orders (the target) makers.
* ``usa`` (US equities): :class:`PerShareFee`, Lean's default ``InteractiveBrokersFeeModel``:
  $0.005 per share, at least $1.00 per order, at most 1 % of the traded value (the minimum wins
  when both apply).

Fees are computed on the fill: ``quantity`` (absolute units) times the fill ``price``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alphapulse.errors import ConfigError

MARKET = "market"
LIMIT = "limit"
STOP_MARKET = "stop_market"

_COINBASE_2019_03 = 1_553_304_600 * 1_000_000_000  # 2019-03-23 01:30 UTC, ns
_COINBASE_2019_10 = 1_570_494_600 * 1_000_000_000  # 2019-10-08 00:30 UTC, ns


class FeeModel(Protocol):
    """What one fill costs, in the quote currency."""

    def fee(self, quantity: float, price: float, order_type: str, time: int) -> float:
        """Fee for ``quantity`` units (absolute) filled at ``price`` by an order of ``order_type``
        (market, limit, stop_market) at ``time`` (ns UTC)."""
        ...


@dataclass(frozen=True, slots=True)
class PercentOfValueFee:
    """A fixed fraction of the traded value (``rate`` = 0.001 is 0.1 %)."""

    rate: float

    def fee(self, quantity: float, price: float, order_type: str, time: int) -> float:
        return abs(quantity) * price * self.rate


@dataclass(frozen=True, slots=True)
class CoinbaseFee:
    """Lean's Coinbase schedule (maker/taker by date), see the module docstring."""

    def fee(self, quantity: float, price: float, order_type: str, time: int) -> float:
        maker = order_type == LIMIT
        if time < _COINBASE_2019_03:
            rate = 0.0 if maker else 0.003
        elif time < _COINBASE_2019_10:
            rate = 0.0015 if maker else 0.0025
        else:
            rate = 0.006 if maker else 0.008
        return abs(quantity) * price * rate


@dataclass(frozen=True, slots=True)
class PerShareFee:
    """Interactive Brokers' fixed US-equity rate as Lean models it by default."""

    per_share: float = 0.005
    minimum: float = 1.0
    maximum_rate: float = 0.01

    def fee(self, quantity: float, price: float, order_type: str, time: int) -> float:
        fee = self.per_share * abs(quantity)
        if fee < self.minimum:
            return self.minimum
        return min(fee, self.maximum_rate * abs(quantity) * price)


@dataclass(frozen=True, slots=True)
class NoFee:
    """No fees (for tests and comparisons)."""

    def fee(self, quantity: float, price: float, order_type: str, time: int) -> float:
        return 0.0


def value_rate(model: FeeModel) -> float | None:
    """The fixed fraction of the traded value that ``model`` charges on every fill, whatever the
    order type and time (:class:`PercentOfValueFee`), or None when its fee depends on more than that.

    With a rate, ``quantity * price * rate`` (positive quantity, multiplied in that order) is the
    model's fee to the last bit, so a caller may compute it without calling :meth:`FeeModel.fee`.
    """
    return model.rate if type(model) is PercentOfValueFee else None


def fee_model_for(market: str) -> FeeModel:
    """Lean's default fee model of ``market`` (binance, coinbase, usa)."""
    models: dict[str, FeeModel] = {
        "binance": PercentOfValueFee(0.001),
        "coinbase": CoinbaseFee(),
        "usa": PerShareFee(),
    }
    try:
        return models[market]
    except KeyError:
        raise ConfigError(f"no fee model for market {market!r}: use one of {', '.join(models)}") from None
