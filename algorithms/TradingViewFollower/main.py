"""TradingViewFollower: trades the TradingView alerts stored by the AlphaPulse webhook.

Live: the alerts come from the webhook's authenticated feed (``GET /alerts?format=csv``), polled by
Lean as REST custom data; parameters ``feed_url`` and ``feed_token``. Backtests: an exported CSV of
stored alerts in the same format (parameter ``alerts_csv``, a file in this project folder).
The rules (when an alert is acted on, stops, targets, sizing) live in ``alphapulse.alerts``.
"""

from datetime import datetime
from pathlib import Path
from typing import ClassVar, cast

from AlgorithmImports import *

from alphapulse.alerts import FollowerStream, parse_feed_line
from alphapulse.bars import from_ns
from alphapulse.errors import DataError
from alphapulse.lean_adapter import LeanStrategyRunner

PROJECT = Path(__file__).resolve().parent


class TradingViewAlertData(PythonData):
    """One alert row of the webhook's CSV feed; ``value`` is the alert's price."""

    feed_url = ""
    feed_token = ""
    csv_path = str(PROJECT / "alerts.csv")
    cursor = "0"
    rejected: ClassVar[list[str]] = []

    def get_source(self, config: SubscriptionDataConfig, date: datetime, is_live_mode: bool) -> SubscriptionDataSource:
        cls = TradingViewAlertData
        if is_live_mode:
            url = f"{cls.feed_url.rstrip('/')}/alerts?format=csv&limit=500&since={cls.cursor}"
            return SubscriptionDataSource(url, SubscriptionTransportMedium.REST, FileFormat.CSV,
                                          {"Authorization": f"Bearer {cls.feed_token}"})
        return SubscriptionDataSource(cls.csv_path, SubscriptionTransportMedium.LOCAL_FILE, FileFormat.CSV)

    def reader(self, config: SubscriptionDataConfig, line: str, date: datetime, is_live_mode: bool) -> BaseData:
        try:
            alert = parse_feed_line(line)
        except DataError as exc:  # logged by the algorithm and skipped, never a crash
            TradingViewAlertData.rejected.append(f"{exc}: {line[:200]}")
            return None  # type: ignore[return-value]
        if alert is None:
            return None  # type: ignore[return-value]
        TradingViewAlertData.cursor = alert.cursor
        data = TradingViewAlertData()
        data.symbol = config.symbol
        data.time = from_ns(alert.received_at).replace(tzinfo=None)
        data.end_time = data.time
        data.value = alert.price
        data["line"] = line
        return data


class TradingViewFollower(QCAlgorithm):
    def initialize(self) -> None:
        self.alphapulse = LeanStrategyRunner(self, name="TradingViewFollower", strategy="tradingview-follower",
                                             project_dir=PROJECT, default_symbols="BTCUSDT")
        TradingViewAlertData.feed_url = self.get_parameter("feed_url", "")
        TradingViewAlertData.feed_token = self.get_parameter("feed_token", "")
        TradingViewAlertData.csv_path = str(PROJECT / self.get_parameter("alerts_csv", "alerts.csv"))
        if self.live_mode and not (TradingViewAlertData.feed_url and TradingViewAlertData.feed_token):
            raise ValueError("live mode needs the parameters feed_url (the webhook's address) and feed_token")
        # the reader stamps alerts in UTC: say so (add_data defaults to New York time)
        self.alerts = self.add_data(TradingViewAlertData, "TVALERTS", Resolution.SECOND, TimeZones.UTC).symbol

    def on_data(self, slice: Slice) -> None:
        for message in TradingViewAlertData.rejected:
            self.log(f"skipped a malformed alert row: {message}")
        TradingViewAlertData.rejected.clear()
        if not slice.contains_key(self.alerts):
            return
        data = cast(TradingViewAlertData, slice[self.alerts])
        alert = parse_feed_line(str(data["line"]))
        if alert is None:
            return
        state = self.alphapulse.symbol_data(alert.ticker)
        if state is None:
            self.log(f"alert {alert.id} for {alert.ticker} ignored: not a traded symbol")
            return
        stream = state.trader.stream
        if isinstance(stream, FollowerStream):
            stream.push(alert)

    def on_order_event(self, order_event: OrderEvent) -> None:
        self.alphapulse.on_order_event(order_event)

    def on_end_of_algorithm(self) -> None:
        self.alphapulse.on_end_of_algorithm()
