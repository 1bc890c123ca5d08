"""R2: wrong, missing, truncated, near-miss secrets and non-allowlisted sources are rejected, nothing stored."""

from __future__ import annotations

import ipaddress
import json
import warnings
from collections.abc import Callable

import pytest

from alphapulse_webhook import Settings, create_app
from alphapulse_webhook.auth import SourcePolicy, bearer_token_matches
from alphapulse_webhook.settings import TRADINGVIEW_ADDRESSES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import SECRET, alert_message, rows_for, tradingview_values

URL = "/webhook/tradingview"
TV = TRADINGVIEW_ADDRESSES[0]

BAD_SECRETS: list[object] = [
    "wrong-secret-entirely-000000",
    SECRET[:-1],                      # truncated by one
    SECRET[: len(SECRET) // 2],       # truncated by half
    SECRET[:1],
    SECRET + "x",                     # one extra character
    SECRET[:-1] + chr(ord(SECRET[-1]) + 1),  # last character off by one
    chr(ord(SECRET[0]) + 1) + SECRET[1:],    # first character off by one
    SECRET.upper(),
    " " + SECRET,
    SECRET + " ",
    SECRET + "\n",
    "",
    None,
    123456,
    [SECRET],
    {"secret": SECRET},
    True,
    "YOUR_WEBHOOK_SECRET",
]


@pytest.mark.parametrize("secret", BAD_SECRETS, ids=range(len(BAD_SECRETS)))
def test_bad_secret_is_401_and_nothing_stored(make_settings: Callable[..., Settings], secret: object) -> None:
    settings = make_settings()
    values = tradingview_values()
    body = json.loads(alert_message(**values))
    body["secret"] = secret
    with TestClient(create_app(settings), client=("203.0.113.9", 1)) as client:
        response = client.post(URL, content=json.dumps(body))
    assert response.status_code == 401
    assert response.json()["field"] == "secret"
    assert SECRET not in response.text
    assert rows_for(settings.database_url, values["ticker"]) == []


def test_missing_secret_is_401(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    values = tradingview_values()
    body = json.loads(alert_message(**values))
    del body["secret"]
    with TestClient(create_app(settings)) as client:
        response = client.post(URL, content=json.dumps(body))
    assert response.status_code == 401
    assert rows_for(settings.database_url, values["ticker"]) == []


def test_wrong_secret_with_invalid_fields_is_still_401(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings()
    with TestClient(create_app(settings)) as client:
        response = client.post(URL, content=json.dumps({"secret": "nope", "price": "bad"}))
    assert response.status_code == 401  # an unauthenticated caller learns nothing about the schema


CASES = [
    # (peer, forwarded header value, settings overrides, expected status)
    ("203.0.113.5", None, {}, 403),                                           # direct, not TradingView
    (TV, None, {}, 200),                                                      # direct from TradingView
    ("127.0.0.1", TV, {}, 403),                                               # header set, none trusted
    ("127.0.0.1", TV, {"forwarded_header": "X-Forwarded-For"}, 200),          # trusted proxy
    ("127.0.0.1", f"{TV}, 10.1.2.3", {"forwarded_header": "X-Forwarded-For",
                                      "trusted_proxies": "127.0.0.1,10.0.0.0/8"}, 200),  # two hops
    ("127.0.0.1", f"{TV}, 203.0.113.5", {"forwarded_header": "X-Forwarded-For"}, 403),  # spoofed left
    ("203.0.113.5", TV, {"forwarded_header": "X-Forwarded-For"}, 403),        # untrusted peer spoofs
    ("127.0.0.1", "garbage", {"forwarded_header": "X-Forwarded-For"}, 403),
    ("127.0.0.1", "", {"forwarded_header": "X-Forwarded-For"}, 403),           # empty: the proxy itself
    ("127.0.0.1", TV, {"forwarded_header": "X-Real-IP"}, 403),                # other header than set
]


@pytest.mark.parametrize(("peer", "forwarded", "overrides", "status"), CASES)
def test_ip_allowlist(make_settings: Callable[..., Settings], peer: str, forwarded: str | None,
                      overrides: dict[str, str], status: int) -> None:
    settings = make_settings(ip_allowlist_enabled=True, **overrides)
    values = tradingview_values()
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    with TestClient(create_app(settings), client=(peer, 4000)) as client:
        response = client.post(URL, content=alert_message(**values), headers=headers)
    assert response.status_code == status, response.text
    assert len(rows_for(settings.database_url, values["ticker"])) == (1 if status == 200 else 0)


def test_forbidden_source_is_refused_before_the_body_is_read(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(ip_allowlist_enabled=True)
    with TestClient(create_app(settings), client=("203.0.113.5", 1)) as client:
        response = client.post(URL, content=b"x" * 100_000)
    assert response.status_code == 403


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("::ffff:52.89.214.238", None, "52.89.214.238"),
    ("127.0.0.1", "[2001:db8::1]:443", "2001:db8::1"),
    ("127.0.0.1", "52.89.214.238:5555", "52.89.214.238"),
    ("127.0.0.1", " 1.2.3.4 ,127.0.0.1", "1.2.3.4"),
    ("127.0.0.1", "127.0.0.1", "127.0.0.1"),
    ("not-an-ip", "1.2.3.4", "unknown"),
])
def test_client_address(peer: str, header: str | None, expected: str) -> None:
    policy = SourcePolicy(False, (), "x-forwarded-for", (ipaddress.ip_network("127.0.0.1/32"),))
    headers = {"x-forwarded-for": header} if header is not None else {}
    assert policy.client_address(peer, headers) == expected


def test_bearer_token() -> None:
    token = "feed-token-0123456789"
    assert bearer_token_matches(f"Bearer {token}", token)
    assert bearer_token_matches(f"bearer {token}", token)
    for bad in (None, "", token, f"Basic {token}", f"Bearer {token[:-1]}", f"Bearer {token}x", "Bearer "):
        assert not bearer_token_matches(bad, token)
