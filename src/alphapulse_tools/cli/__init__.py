"""The ``alphapulse`` command line.

Exit codes: 0 success, 2 bad usage or bad input (one line on stderr, no traceback), 1 failure.
Each command group lives in its own module and is registered here.
"""

from __future__ import annotations

import sys
from importlib import import_module

import click
import typer
from typer.exceptions import TyperException

from alphapulse.errors import AlphaPulseError

app = typer.Typer(
    name="alphapulse",
    help="AlphaPulse: candlestick-pattern signals for Lean, locally and live.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: (module under alphapulse_tools.cli, attribute): a typer app added as a group or a command function
_COMMANDS: list[tuple[str, str, str | None]] = [
    ("data", "app", "data"),
    ("scan", "scan", "scan"),
    ("webhook", "app", "webhook"),
    ("store", "db_app", "db"),
    ("store", "export", "export"),
    ("backtest", "backtest", "backtest"),
    ("ml", "app", "ml"),
    ("pine", "pine_inputs", "pine-inputs"),
]


def _register() -> None:
    for module_name, attribute, group in _COMMANDS:
        target = getattr(import_module(f"alphapulse_tools.cli.{module_name}"), attribute)
        if isinstance(target, typer.Typer):
            app.add_typer(target, name=group)
        else:
            app.command(name=group)(target)


_register()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the command line, mapping AlphaPulse errors to one line and an exit code."""
    try:
        # without standalone mode click returns the code of typer.Exit / ctx.exit instead of raising
        result = app(args=argv, standalone_mode=False)
    except AlphaPulseError as exc:
        typer.echo(f"error: {exc}", err=True)
        return exc.exit_code
    except (typer.Exit, click.exceptions.Exit) as exc:
        return int(exc.exit_code or 0)
    except (typer.Abort, click.exceptions.Abort):
        typer.echo("aborted", err=True)
        return 1
    except (TyperException, click.ClickException) as exc:  # usage errors: typer's own click, or click's
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return int(getattr(exc, "exit_code", 2) or 2)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
