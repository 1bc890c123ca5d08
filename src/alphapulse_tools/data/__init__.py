"""Market data tools: Binance public data to Lean's local format, validation, the data catalog.

The entry point other tools use is :func:`ensure_binance_data` (download what is missing for a
symbol and range, convert it to Lean files under the data folder, cached).
"""

from alphapulse_tools.data.download import EnsureSummary, ensure_binance_data

__all__ = ["EnsureSummary", "ensure_binance_data"]
