"""The versioned TradingView alert: parsing the raw body, checking the secret, validating the fields.

Alert JSON (schema ``alphapulse.alert/1``; see ``webhook/README.md`` for the full table):

- ``schema`` (optional, default ``"alphapulse.alert/1"``): the only version accepted today;
- ``secret`` (required): the shared secret, compared in constant time, never stored;
- ``ticker``, ``exchange``, ``interval`` (required text, 1–64 characters);
- ``action`` (required): ``buy``, ``sell``, ``close`` or ``flat`` (any letter case);
- ``price`` (required): a finite number > 0 (a JSON number or numeric text);
- ``time`` (required): the bar time as TradingView's ``{{time}}`` writes it,
  ``yyyy-MM-ddTHH:mm:ssZ`` (ISO-8601 with a UTC offset is accepted too; naive times are refused);
- ``contracts`` (finite, >= 0), ``position_size`` (finite, signed), ``order_id``, ``strategy``,
  ``comment``, ``alert_id`` (optional; empty text counts as absent);
- any other key is kept as it is in the stored payload.

Errors: :class:`MalformedBody` (HTTP 400: not a JSON object, NaN/Infinity, NUL characters, nesting
too deep), :class:`SecretRejected` (HTTP 401), :class:`AlertInvalid` (HTTP 422, names the field).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from alphapulse.errors import DataError

ALERT_SCHEMA = "alphapulse.alert/1"
ALERT_SCHEMA_VERSION = 1
ACTIONS = ("buy", "sell", "close", "flat")
MAX_DEPTH = 16


class AlertRejected(DataError):
    """An alert was refused; ``status`` is the HTTP status the webhook answers."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MalformedBody(AlertRejected):
    """The body is not a JSON object the webhook can read (HTTP 400)."""

    status = 400


class SecretRejected(AlertRejected):
    """The secret is missing or wrong (HTTP 401)."""

    status = 401


class AlertInvalid(AlertRejected):
    """A field of the alert is missing or invalid (HTTP 422); the message names the field."""

    status = 422


def _empty_as_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return _no_bool(value)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


Text = Annotated[str, Field(min_length=1, max_length=64)]
OptionalText = Annotated[Annotated[str, Field(max_length=128)] | None, BeforeValidator(_empty_as_none)]
Comment = Annotated[Annotated[str, Field(max_length=1000)] | None, BeforeValidator(_empty_as_none)]
FiniteNumber = Annotated[float, Field(allow_inf_nan=False)]
OptionalNumber = Annotated[FiniteNumber | None, BeforeValidator(_empty_as_none)]
Price = Annotated[float, BeforeValidator(_no_bool), Field(gt=0, allow_inf_nan=False)]


class TradingViewAlert(BaseModel):
    """One validated TradingView alert (schema ``alphapulse.alert/1``); unknown keys are kept.

    ``time`` is the bar's time in UTC; ``price``, ``contracts`` and ``position_size`` are finite
    floats in the instrument's quote units / contracts; text fields are stripped of surrounding
    whitespace. ``secret`` is held as :class:`~pydantic.SecretStr` and left out of :meth:`payload`.
    """

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=True, populate_by_name=True)

    schema_tag: Literal["alphapulse.alert/1"] = Field(default=ALERT_SCHEMA, alias="schema")
    secret: SecretStr = Field(exclude=True)
    ticker: Text
    exchange: Text
    interval: Text
    action: Literal["buy", "sell", "close", "flat"]
    price: Price
    time: datetime
    contracts: OptionalNumber = None
    position_size: OptionalNumber = None
    order_id: OptionalText = None
    strategy: OptionalText = None
    comment: Comment = None
    alert_id: OptionalText = None

    @field_validator("action", mode="before")
    @classmethod
    def _lower_action(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("time", mode="before")
    @classmethod
    def _bar_time(cls, value: Any) -> datetime:
        if not isinstance(value, str):
            raise ValueError("must be text like 2024-01-31T13:00:00Z (TradingView's {{time}})")
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not a time like 2024-01-31T13:00:00Z") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{value[:40]!r} has no UTC offset; write it like 2024-01-31T13:00:00Z")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{value[:40]!r} is out of range") from None

    @field_validator("contracts")
    @classmethod
    def _contracts(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError("must be >= 0")
        return value

    @property
    def schema_version(self) -> int:
        """The schema's version number (1)."""
        return ALERT_SCHEMA_VERSION

    @property
    def bar_time_text(self) -> str:
        """The bar time as ``yyyy-MM-ddTHH:mm:ssZ`` (fractions of a second kept when present)."""
        text = self.time.isoformat()
        return text.replace("+00:00", "Z")

    @property
    def extra_fields(self) -> dict[str, Any]:
        """The keys outside the schema, as received."""
        return dict(self.model_extra or {})

    @property
    def idempotency_key(self) -> str:
        """``alert:<alert_id>`` when the alert names itself, else ``derived:<sha256>``.

        The derived key hashes exchange, ticker, interval, bar time, action, strategy and order id,
        so a resend (the same message) maps to the same key while two different orders on one bar
        do not.
        """
        if self.alert_id is not None:
            return f"alert:{self.alert_id}"
        parts = [self.exchange, self.ticker, self.interval, self.bar_time_text, self.action,
                 self.strategy or "", self.order_id or ""]
        digest = hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()
        return f"derived:{digest}"

    def payload(self) -> dict[str, Any]:
        """The alert as stored in ``alerts.payload``: JSON-ready, without the secret, extras kept."""
        data = self.model_dump(mode="json", by_alias=True, exclude={"secret"})
        data["time"] = self.bar_time_text
        return data


def _reject_constant(name: str) -> Any:
    raise MalformedBody(f"the body contains {name}, which is not valid JSON; send a finite number")


def _check_value(value: Any, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise MalformedBody(f"the body nests deeper than {MAX_DEPTH} levels at {path or 'the top'}")
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise MalformedBody(f"field {path!r} is out of range for a number; send a finite number", path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"{path}.{key}" if path else key)
            _check_value(item, f"{path}.{key}" if path else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]", depth + 1)


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise MalformedBody(f"field {path!r} contains a NUL character (\\u0000); remove it", path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedBody(f"field {path!r} contains an unpaired surrogate escape; send valid UTF-8",
                            path) from None


def parse_body(raw: bytes) -> dict[str, Any]:
    """Read the raw request body (any Content-Type) as one JSON object, or raise :class:`MalformedBody`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedBody(f"the body is not UTF-8 text (byte {exc.start}); send JSON") from None
    if not text.strip():
        raise MalformedBody("the body is empty; paste the alert message template into the alert's Message")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise MalformedBody(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); "
            "check that placeholders left no unquoted text and comments contain no double quotes"
        ) from None
    except (RecursionError, ValueError) as exc:
        if isinstance(exc, MalformedBody):
            raise
        raise MalformedBody(f"the body cannot be read as JSON: {str(exc)[:80]}") from None
    if not isinstance(value, dict):
        raise MalformedBody(f"the body must be a JSON object, not {type(value).__name__}")
    _check_value(value, "", 0)
    return value


def check_secret(body: dict[str, Any], expected: SecretStr) -> None:
    """Compare ``body["secret"]`` with ``expected`` in constant time; raise :class:`SecretRejected`."""
    given = body.get("secret")
    if not isinstance(given, str) or not given:
        raise SecretRejected('the alert has no secret; add "secret": "<ALPHAPULSE_WEBHOOK_SECRET>"', "secret")
    if not hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8")):
        raise SecretRejected("the alert's secret is wrong", "secret")


def validate_alert(body: dict[str, Any]) -> TradingViewAlert:
    """Validate a parsed body against the alert schema; raise :class:`AlertInvalid` naming the field."""
    try:
        return TradingViewAlert.model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        count = exc.error_count()
        more = f" (and {count - 1} more)" if count > 1 else ""
        raise AlertInvalid(f"field {field!r}: {first['msg']}{more}", field) from None


def parse_alert(raw: bytes, expected_secret: SecretStr) -> TradingViewAlert:
    """Body bytes -> validated alert: :func:`parse_body`, :func:`check_secret`, :func:`validate_alert`."""
    body = parse_body(raw)
    check_secret(body, expected_secret)
    return validate_alert(body)
