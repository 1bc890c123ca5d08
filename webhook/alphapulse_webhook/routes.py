"""HTTP handlers: receive alerts, serve the feed, report health. Each one only translates HTTP.

Status codes of ``POST /webhook/tradingview``: 200 stored or duplicate, 202 spooled, 400 unreadable
body, 401 wrong or missing secret, 403 source not allowed, 413 body too large, 422 invalid field,
429 rate limit (``Retry-After``), 503 cannot accept safely (``Retry-After``; TradingView resends).
Never 504: every wait inside is bounded well below TradingView's 3 s.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import psycopg
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from psycopg_pool import PoolTimeout
from starlette.requests import ClientDisconnect

from alphapulse.errors import DataError
from alphapulse_webhook.auth import SourcePolicy, bearer_token_matches
from alphapulse_webhook.ratelimit import RateLimiter
from alphapulse_webhook.schema import (
    AlertInvalid,
    AlertRejected,
    MalformedBody,
    TradingViewAlert,
    parse_alert,
)
from alphapulse_webhook.service import AlertService, Outcome, ServiceUnavailable
from alphapulse_webhook.settings import Settings, get_settings
from alphapulse_webhook.store import FEED_COLUMNS, AlertRecord, FeedCursor, fetch_feed

router = APIRouter()

SettingsDep = Annotated[Settings, Depends(get_settings)]

#: The CSV feed's columns: the JSON feed's fields in the same order, without ``payload``.
CSV_COLUMNS = ("cursor", *(column for column in FEED_COLUMNS if column != "payload"))


class BodyTooLarge(AlertRejected):
    """The body is larger than ``max_body_bytes`` (HTTP 413)."""

    status = 413


class SourceForbidden(AlertRejected):
    """The client address is not on the allowlist (HTTP 403)."""

    status = 403


class FeedUnauthorized(AlertRejected):
    """The feed's bearer token is missing or wrong (HTTP 401)."""

    status = 401


def _service(request: Request) -> AlertService:
    return request.app.state.service


def _reply(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise MalformedBody(f"Content-Length {declared[:20]!r} is not a number")
        if int(declared) > limit:
            raise BodyTooLarge(f"the body has {int(declared)} bytes; the limit is {limit} "
                               "(ALPHAPULSE_MAX_BODY_BYTES)")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"the body is larger than {limit} bytes (ALPHAPULSE_MAX_BODY_BYTES)")
            chunks.append(chunk)
    except ClientDisconnect:
        raise MalformedBody("the client disconnected before sending the whole body") from None
    return b"".join(chunks)


_ALERT_BODY = {
    "required": True,
    "description": "The alert as JSON, sent as application/json or text/plain (the raw body is read "
                   "whatever the Content-Type).",
    "content": {
        "application/json": {"schema": TradingViewAlert.model_json_schema(by_alias=True)},
        "text/plain": {"schema": {"type": "string"}},
    },
}

_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}
_ALERT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "stored, or a duplicate of a stored alert"},
    202: {"description": "spooled durably while the database is unreachable"},
    400: {"description": "the body is not a JSON object"},
    401: {"description": "missing or wrong secret"},
    403: {"description": "source address not allowed"},
    413: {"description": "body too large"},
    422: {"description": "a field is missing or invalid (named in `field`)"},
    429: {"description": "rate limit; see Retry-After"},
    503: {"description": "cannot accept safely now; TradingView resends"},
}


@router.post("/webhook/tradingview", openapi_extra={"requestBody": _ALERT_BODY},
             responses=_ALERT_RESPONSES, summary="Receive a TradingView alert")
async def receive_alert(request: Request) -> JSONResponse:
    """Authenticate, validate, deduplicate and durably store one alert (see the module docstring).

    The hot path reads the app's settings directly (``create_app(settings)``); resolving a
    dependency override costs FastAPI a signature inspection on every request.
    """
    received_at = datetime.now(UTC)
    settings: Settings = request.app.state.settings
    policy: SourcePolicy = request.app.state.source_policy
    limiter: RateLimiter = request.app.state.rate_limiter
    client = policy.client_address(request.client.host if request.client else None, request.headers)
    if not policy.allowed(client):
        raise SourceForbidden(f"source address {client} is not on the allowlist (ALPHAPULSE_IP_ALLOWLIST)")
    wait = limiter.acquire(client)
    if wait > 0:
        return _reply(429, {"status": "rejected", "error": f"too many alerts from {client}; retry later"},
                      {"Retry-After": limiter.retry_after(wait)})
    raw = await _read_body(request, settings.max_body_bytes)
    alert = parse_alert(raw, settings.webhook_secret)
    record = AlertRecord.from_alert(alert, client, received_at)
    outcome = await _service(request).accept(record)
    status = 202 if outcome is Outcome.SPOOLED else 200
    return _reply(status, {"status": outcome.value, "idempotency_key": record.idempotency_key})


@router.get("/alerts", summary="The stored alerts after a cursor (bearer token)",
            responses={401: {"description": "missing or wrong bearer token"},
                       422: {"description": "bad query parameter (named in `field`)"},
                       503: {"description": "the database is unreachable"}})
async def alert_feed(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
    since: Annotated[str, Query(max_length=64, description="0 or a next_cursor value")] = "0",
    limit: Annotated[int, Query(ge=1, le=10_000, description="most alerts in the page")] = 100,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response:
    """Alerts in feed order after ``since``; JSON ``{"alerts", "next_cursor", "has_more"}`` or CSV."""
    if not bearer_token_matches(authorization, settings.feed_token.get_secret_value()):
        raise FeedUnauthorized("missing or wrong bearer token; send Authorization: Bearer "
                               "<ALPHAPULSE_FEED_TOKEN>", "authorization")
    if limit > settings.feed_max_limit:
        raise AlertInvalid(f"limit={limit} is above the largest page, {settings.feed_max_limit}", "limit")
    try:
        cursor = FeedCursor.parse(since)
    except DataError as exc:
        raise AlertInvalid(str(exc), "since") from None
    try:
        page = await fetch_feed(_service(request).pool, cursor, limit, settings.db_timeout_seconds)
    except (psycopg.Error, PoolTimeout, TimeoutError, OSError):
        raise ServiceUnavailable("the database is unreachable; the feed resumes when it is back") from None
    if format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for item in page.alerts:
            writer.writerow(["" if item[c] is None else _csv_value(item[c]) for c in CSV_COLUMNS])
        return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"X-Next-Cursor": str(page.next_cursor),
                                 "X-Has-More": "true" if page.has_more else "false"})
    return _reply(200, {"alerts": page.alerts, "next_cursor": str(page.next_cursor),
                        "has_more": page.has_more})


#: Characters that some line-based readers treat as a line end (Lean reads custom data line by line).
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _csv_value(value: Any) -> str:
    """One CSV cell: floats in round-trip form, line breaks in text as spaces (one alert per line)."""
    if isinstance(value, float):
        return repr(value)
    return _LINE_BREAKS.sub(" ", str(value))


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: ready, degraded (spooling) or 503",
            responses={503: {"description": "neither the database nor the spool can accept alerts"}})
async def readyz(request: Request) -> JSONResponse:
    """``ready`` (database up, spool empty), ``degraded`` (alerts go to the spool) or 503."""
    service = _service(request)
    database = await service.database_ready()
    spool_ok = service.spool.writable()
    body = {"database": database, "spool_writable": spool_ok, "spooled": service.spool.pending}
    if database and not service.spool.pending:
        return _reply(200, {"status": "ready", **body})
    if spool_ok:
        return _reply(200, {"status": "degraded", **body})
    return _reply(503, {"status": "unavailable", **body}, {"Retry-After": "5"})

