"""``alphapulse pine-inputs``: what to enter in the TradingView scripts' inputs for a contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError


def pine_inputs(
    symbol: Annotated[str, typer.Option(help="the contract's symbol, e.g. BTCUSDT")],
    config: Annotated[Path | None, typer.Option(
        help="per-contract configuration (JSON) [config/contracts.default.json]")] = None,
    script: Annotated[str, typer.Option(help="overlay or strategy")] = "strategy",
    pine_dir: Annotated[Path, typer.Option(help="folder of the Pine scripts")] = Path("pine_scripts"),
    fmt: Annotated[str, typer.Option("--format", help="text (by group and title) or json (by variable)")] = "text",
) -> None:
    """The inputs of the AlphaPulse overlay or strategy that give the contract's signal on the
    chart, as TradingView lists them in Settings -> Inputs (* marks a value that differs from the
    script's default). Fails, naming the key, for what the scripts cannot express."""
    from alphapulse_tools.contract_files import load_configured
    from alphapulse_tools.pine import SCRIPTS, inputs_for_script

    if script not in SCRIPTS:
        raise ConfigError(f"--script {script!r}: use overlay or strategy")
    fmt = fmt.lower()
    if fmt not in ("text", "json"):
        raise ConfigError(f"--format {fmt!r}: use text or json")
    contract = load_configured(config).for_symbol(symbol.strip().upper())
    rows = inputs_for_script(contract, pine_dir / SCRIPTS[script])
    if fmt == "json":
        typer.echo(json.dumps({item.name: value for item, value in rows}, indent=1))
        return
    groups: dict[str, list[str]] = {}  # TradingView shows each group once, where it first appears
    for item, value in rows:
        shown = ("true" if value else "false") if isinstance(value, bool) else value
        mark = "*" if value != item.default else " "
        groups.setdefault(item.group or "Inputs", []).append(f" {mark} {item.title}: {shown}")
    for group, lines in groups.items():
        typer.echo(f"{group}:")
        for line in lines:
            typer.echo(line)
