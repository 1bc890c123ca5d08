"""The FastAPI application factory: ``create_app(settings=None, hooks=())``.

Run it with ``alphapulse webhook serve`` (uvicorn with ``proxy_headers=False``: the client address
behind a reverse proxy is resolved by :mod:`alphapulse_webhook.auth` from the configured header
only). Errors map to JSON ``{"status": "rejected" | "unavailable", "error": ..., "field": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from alphapulse_webhook.auth import SourcePolicy
from alphapulse_webhook.ratelimit import RateLimiter
from alphapulse_webhook.routes import FeedUnauthorized, router
from alphapulse_webhook.schema import AlertRejected
from alphapulse_webhook.service import AlertHook, AlertRefused, AlertService, ServiceUnavailable
from alphapulse_webhook.settings import Settings, get_settings

log = logging.getLogger("alphapulse.webhook")


def _printable(text: str, limit: int = 300) -> str:
    """``text`` safe to send as UTF-8 JSON: unpaired surrogates escaped, cut to ``limit`` characters."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


def create_app(settings: Settings | None = None, hooks: Sequence[AlertHook] = ()) -> FastAPI:
    """Build the webhook app; ``settings`` None reads the environment (refusing weak secrets).

    ``hooks`` are async functions run for each stored or spooled alert after the answer was sent
    (notifications, forwarding). The given or read ``settings`` also answer the :func:`get_settings`
    dependency of the feed and health routes; ``POST /webhook/tradingview`` reads them from
    ``app.state.settings``.
    """
    settings = settings if settings is not None else get_settings()

    service = AlertService(settings, hooks)  # SpoolError here when the spool folder is unusable

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="AlphaPulse TradingView webhook",
        version="1",
        description="Receives TradingView alerts (authenticated, deduplicated, durably stored) and "
                    "serves them to Lean's TradingViewFollower.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.source_policy = SourcePolicy.from_settings(settings)
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)

    async def given_settings() -> Settings:  # async: no thread hop per request
        return settings

    app.dependency_overrides[get_settings] = given_settings
    app.include_router(router)

    @app.exception_handler(AlertRejected)
    async def rejected(request: Request, exc: AlertRejected) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, FeedUnauthorized) else None
        field = _printable(exc.field) if exc.field is not None else None
        return JSONResponse({"status": "rejected", "error": _printable(str(exc)), "field": field},
                            status_code=exc.status, headers=headers)

    @app.exception_handler(AlertRefused)
    async def refused(request: Request, exc: AlertRefused) -> JSONResponse:
        return JSONResponse({"status": "rejected", "error": str(exc), "field": None}, status_code=422)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        return JSONResponse({"status": "unavailable", "error": str(exc)}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(RequestValidationError)
    async def bad_query(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("request",), "msg": "invalid request"}
        field = ".".join(str(part) for part in first["loc"][1:]) or str(first["loc"][0])
        return JSONResponse({"status": "rejected", "error": f"{field}: {first['msg']}", "field": field},
                            status_code=422)

    return app
