"""``alphapulse db init`` and ``alphapulse export``: the PostgreSQL / TimescaleDB journal store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError, StoreError
from alphapulse_tools.store.database import connect, database_url, redact
from alphapulse_tools.store.exporter import export_sources
from alphapulse_tools.store.follow import FollowSettings, follow
from alphapulse_tools.store.migrations import migrate
from alphapulse_tools.store.mode import StoreMode
from alphapulse_tools.store.readers import discover
from alphapulse_tools.store.retention import apply_retention, check_keep

db_app = typer.Typer(help="Create or upgrade the AlphaPulse schema in PostgreSQL / TimescaleDB.",
                     no_args_is_help=True)

DatabaseUrl = Annotated[str | None, typer.Option(
    "--database-url", help="postgresql://user@host:5432/db (default: $ALPHAPULSE_DATABASE_URL)",
    show_default=False)]
Mode = Annotated[str, typer.Option(
    "--mode", help="auto: TimescaleDB when the server has it, else plain PostgreSQL; or timescale|plain")]


@db_app.command("init")
def init(url: DatabaseUrl = None, mode: Mode = "auto") -> None:
    """Create the schema, or bring it to the latest version; prints the mode chosen."""
    wanted = StoreMode.parse(mode)
    chosen = database_url(url)
    with connect(chosen) as conn:
        report = migrate(conn, wanted)
    typer.echo(f"{redact(chosen)}: {report}")


@db_app.command("retention")
def retention(
    keep_days: Annotated[int, typer.Option("--keep-days", help="keep rows whose time is within this many "
                                           "days (bar, fill or exit time, not export time)")],
    url: DatabaseUrl = None,
) -> None:
    """Forget journal rows older than --keep-days: a policy under TimescaleDB, dropped yearly
    partitions on plain PostgreSQL (run it periodically there)."""
    chosen = database_url(url)
    keep = timedelta(days=keep_days)
    check_keep(keep)
    with connect(chosen) as conn:
        mode, done = apply_retention(conn, keep)
    typer.echo(f"{redact(chosen)}: {mode.value} mode, keep {keep_days} days")
    for line in done or ["no partition is old enough to drop"]:
        typer.echo(f"  {line}")


def export(
    sources: Annotated[list[Path], typer.Argument(
        help="Lean or local-runner result folders, ObjectStore folders (storage/alphapulse/<algorithm>), "
             "or folders holding them", show_default=False)],
    url: DatabaseUrl = None,
    copy: Annotated[bool | None, typer.Option(
        "--copy/--no-copy", help="bulk-load with COPY (default: unless the server lacks it, e.g. PGlite)",
        show_default=False)] = None,
    follow_mode: Annotated[bool, typer.Option(
        "--follow", help="keep polling the ObjectStore journals for new lines (Ctrl-C stops)")] = False,
    poll_seconds: Annotated[float, typer.Option("--poll-seconds", help="pause between polls")] = 1.0,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", help="with --follow: stop after this many seconds", show_default=False)] = None,
    once: Annotated[bool, typer.Option("--once", help="with --follow: poll once and stop")] = False,
) -> None:
    """Store backtest results and journals in the database, idempotently (one transaction per run).

    Creates or upgrades the schema first. A bad file fails its run only (nothing of it stored);
    the others are stored and the command exits 1 at the end.
    """
    chosen = database_url(url)
    if not follow_mode:
        for source in sources:
            discover(source)  # a path with nothing to export is bad input: say so before connecting
    with connect(chosen) as conn:
        migrate(conn)
        if follow_mode:
            settings = FollowSettings(poll_seconds=poll_seconds, max_seconds=max_seconds, once=once,
                                      use_copy=copy)
            if len(sources) > 1 and not once:
                raise ConfigError("--follow tails one folder; pass one ObjectStore folder "
                                 "(e.g. storage/alphapulse), or add --once")
            for source in sources:
                try:
                    polls = follow(conn, source, settings,
                                   on_poll=lambda runs: [typer.echo(str(run)) for run in runs])
                except KeyboardInterrupt:
                    typer.echo("stopped following (lines of the interrupted poll load on restart)")
                    return
                typer.echo(f"followed {source}: {polls} poll(s)")
            return
        report = export_sources(conn, sources, use_copy=copy)
    for run in report.runs:
        typer.echo(str(run), err=not run.ok)
    if report.failed:
        raise StoreError(f"{len(report.failed)} of {len(report.runs)} run(s) failed and were not stored: "
                         + "; ".join(str(run.source) for run in report.failed))
