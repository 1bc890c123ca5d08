"""RsiMeanReversion: the AlphaPulse `rsi-mean-reversion` strategy on Lean (rules in Library/alphapulse)."""

from pathlib import Path

from AlgorithmImports import *

from alphapulse.lean_adapter import LeanStrategyRunner


class RsiMeanReversion(QCAlgorithm):
    def initialize(self) -> None:
        self.alphapulse = LeanStrategyRunner(self, name="RsiMeanReversion", strategy="rsi-mean-reversion",
                                             project_dir=Path(__file__).resolve().parent,
                                             default_symbols="BTCUSDT,ETHUSDT")

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.alphapulse.on_order_event(order_event)

    def on_end_of_algorithm(self) -> None:
        self.alphapulse.on_end_of_algorithm()
