"""The project's exception tree.

Every error a user can cause derives from :class:`AlphaPulseError`; its message names what is
wrong (the file and row, the key path, the URL) and how to fix it. Adapters map the tree: the
command line exits with :attr:`AlphaPulseError.exit_code` and prints one line, the webhook answers
4xx, a Lean algorithm logs and stops in ``initialize`` or skips in live trading.
"""

from __future__ import annotations


class AlphaPulseError(Exception):
    """Base of all AlphaPulse errors. ``exit_code`` 2 means bad input or usage, 1 a failure."""

    exit_code: int = 2


class ConfigError(AlphaPulseError, ValueError):
    """A configuration value is unknown, missing or out of range (the message names the key path)."""


class DataError(AlphaPulseError):
    """Market data is missing, malformed or inconsistent (the message names the file and row)."""


class BarError(DataError, ValueError):
    """A bar is invalid: NaN, non-positive price, negative volume, high < low, or out of order."""


class NoDataError(DataError):
    """No data exists for the requested symbol, resolution or date range."""


class DownloadError(AlphaPulseError):
    """A download failed (HTTP error, checksum mismatch, corrupt archive); the message names the URL."""


class StrategyError(AlphaPulseError):
    """A strategy cannot run as configured (unknown strategy, insufficient warm-up, ...)."""


class StoreError(AlphaPulseError):
    """The database or a file to be stored was rejected; nothing of that unit was committed."""

    exit_code = 1
