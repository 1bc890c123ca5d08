"""``alphapulse webhook``: run the TradingView webhook, print its message template, export its feed."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Annotated

import typer

from alphapulse.errors import ConfigError, DownloadError

app = typer.Typer(help="The TradingView webhook service.", no_args_is_help=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on (behind a TLS proxy)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the webhook with uvicorn; settings come from ALPHAPULSE_* environment variables."""
    import uvicorn

    from alphapulse_webhook import create_app, load_settings

    settings = load_settings()  # ConfigError (exit 2) on a missing, placeholder or short secret
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=False, log_level=log_level,
                server_header=False, timeout_graceful_shutdown=5)


@app.command()
def template() -> None:
    """Print the alert message to paste into TradingView (replace YOUR_WEBHOOK_SECRET)."""
    from alphapulse_webhook import MESSAGE_TEMPLATE

    typer.echo(MESSAGE_TEMPLATE)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV file to write (the feed's row format)")],
    url: Annotated[str, typer.Option(help="the webhook's base URL")] = "http://127.0.0.1:8000",
    since: Annotated[str, typer.Option(help="start after this feed cursor (0: everything)")] = "0",
    page: Annotated[int, typer.Option(min=1, max=10_000, help="alerts per request")] = 1000,
) -> None:
    """Export stored alerts as one CSV file (for TradingViewFollower backtests); token from ALPHAPULSE_FEED_TOKEN."""
    import httpx

    token = os.environ.get("ALPHAPULSE_FEED_TOKEN", "")
    if not token:
        raise ConfigError("ALPHAPULSE_FEED_TOKEN is not set; export it with the webhook's feed token")
    endpoint = url.rstrip("/") + "/alerts"
    cursor, count, header = since, 0, None
    rows: list[str] = []
    with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(1_000_000):
            try:
                response = client.get(endpoint, params={"since": cursor, "limit": page, "format": "csv"})
            except httpx.HTTPError as exc:
                raise DownloadError(f"cannot reach {endpoint}: {exc}; is the webhook running?") from None
            if response.status_code != 200:
                raise DownloadError(f"{endpoint} answered {response.status_code}: {response.text[:200]}")
            first, _, body = response.text.partition("\n")
            header = header or first + "\n"
            rows.append(body)
            count += sum(1 for _ in csv.reader(io.StringIO(body)))
            cursor = response.headers["X-Next-Cursor"]
            if response.headers.get("X-Has-More") != "true":
                break
    if header is None:
        raise DownloadError(f"{endpoint} sent no CSV header")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(header + "".join(rows), encoding="utf-8")
    typer.echo(f"{count} alert(s) written to {output}; next cursor {cursor}")
