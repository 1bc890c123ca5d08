"""Where the command line finds the per-contract configuration: ``--config``, else
``config/contracts.default.json`` when it is there (run from the project folder), else the
built-in defaults of :mod:`alphapulse.config`."""

from __future__ import annotations

from pathlib import Path

from alphapulse.config import Contracts, load_contracts

DEFAULT_CONFIG = Path("config") / "contracts.default.json"


def config_file(config: Path | None) -> Path | None:
    """``config``, else the default file when present, else None (the built-in defaults)."""
    if config is None and DEFAULT_CONFIG.is_file():
        return DEFAULT_CONFIG
    return config


def load_configured(config: Path | None) -> Contracts:
    """The contracts of :func:`config_file` (loaded and validated once); with no file, every symbol
    gets the built-in defaults."""
    path = config_file(config)
    return load_contracts(path) if path is not None else Contracts({})
