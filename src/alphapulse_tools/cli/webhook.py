"""``alphapulse webhook``: run the TradingView webhook service and print the alert message template."""

from __future__ import annotations

from typing import Annotated

import typer

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
