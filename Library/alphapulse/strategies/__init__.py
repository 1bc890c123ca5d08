"""The strategies, by name: rules defined once, executed by every runtime (see :mod:`.base`).

``create_strategy("rsi-mean-reversion", contract, symbol="BTCUSDT", market="binance")`` builds one
from a contract's configuration; :data:`STRATEGIES` lists them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from alphapulse.config import ContractConfig
from alphapulse.errors import StrategyError
from alphapulse.scoring import SignalFactor
from alphapulse.strategies.base import Strategy, StrategyStream
from alphapulse.strategies.macd_crossover import MacdCrossover
from alphapulse.strategies.pattern_confluence import PatternConfluence
from alphapulse.strategies.rsi_mean_reversion import RsiMeanReversion

#: every strategy by its name
STRATEGIES: dict[str, type[Strategy]] = {
    PatternConfluence.name: PatternConfluence,
    RsiMeanReversion.name: RsiMeanReversion,
    MacdCrossover.name: MacdCrossover,
}


def create_strategy(name: str, contract: ContractConfig, *, symbol: str | None = None,
                    market: str = "", factors: Sequence[SignalFactor] | None = None) -> Strategy:
    """The strategy called ``name`` for ``contract`` (trading ``symbol`` on ``market``; the symbol
    defaults to the contract's). Raises :class:`StrategyError` listing the names for an unknown one.

    ``factors`` are extra scoring factors (:class:`alphapulse.scoring.SignalFactor`, e.g. a
    :class:`alphapulse.model_factor.ModelFactor`); only ``pattern-confluence`` scores with them.
    When None and the contract names a ``model``, that model is loaded (TensorFlow is imported then).
    """
    cls = STRATEGIES.get(name)
    if cls is None:
        close = difflib.get_close_matches(name, list(STRATEGIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise StrategyError(f"unknown strategy {name!r}{hint}; use one of {', '.join(STRATEGIES)}")
    if cls is not PatternConfluence:
        if factors:
            raise StrategyError(f"strategy {name!r} does not score signals with plugged factors; "
                                "use pattern-confluence")
        return cls(contract, symbol=symbol, market=market)  # type: ignore[call-arg]
    if factors is None and contract.model is not None:
        from alphapulse.model_factor import ModelFactor

        factors = [ModelFactor.load(contract.model.path, weight=contract.model.weight)]
    return PatternConfluence(contract, symbol=symbol, market=market, factors=factors or ())


__all__ = ["STRATEGIES", "MacdCrossover", "PatternConfluence", "RsiMeanReversion", "Strategy", "StrategyStream",
           "create_strategy"]
