"""``alphapulse data ...``: download, convert, validate and list market data."""

from __future__ import annotations

import typer

app = typer.Typer(help="Get Binance market data into Lean's format, validate it, list it.",
                  no_args_is_help=True)
