"""R1: 10,000 generated requests (valid, mutated, random; JSON and text/plain): no 5xx, no invalid row.

Every answer must be one of the documented codes; every generated valid alert must be accepted;
afterwards every row stored during the run must validate against the schema again, carry the key
the schema derives, and belong to a request that was answered 200.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from alphapulse_webhook import create_app, load_settings
from alphapulse_webhook.schema import validate_alert

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from .conftest import FEED_TOKEN, SECRET

REQUESTS_PER_EXAMPLE = 20
EXAMPLES = int(os.environ.get("ALPHAPULSE_FUZZ_EXAMPLES", "500"))  # x 20 = 10,000 requests
ALLOWED = {200, 400, 401, 413, 422}
FIELDS = ("schema", "secret", "ticker", "exchange", "interval", "action", "price", "time", "contracts",
          "position_size", "order_id", "strategy", "comment", "alert_id")

safe_text = st.text(st.characters(categories=["L", "N", "P", "S"]), min_size=1, max_size=20)
spaced_text = st.builds(lambda a, b: f"{a} {b}", safe_text, safe_text)
name = st.one_of(safe_text, spaced_text)
optional_name = st.one_of(st.none(), st.just(""), name)


def json_values(text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70),
                     st.floats(allow_nan=False, allow_infinity=False), text)
    return st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(text, inner, max_size=4)), max_leaves=12)


json_value = json_values(st.text(max_size=30))  # anything JSON can carry, NUL characters included
storable_value = json_values(st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                                            max_size=30))
bar_time = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
price = st.floats(min_value=1e-9, max_value=1e12, allow_nan=False, allow_infinity=False)
number = st.one_of(st.none(), st.floats(min_value=0, max_value=1e9, allow_nan=False), st.integers(0, 10**6))


@st.composite
def valid_alert(draw: st.DrawFn) -> dict[str, Any]:
    when = draw(bar_time)
    body: dict[str, Any] = {
        "secret": SECRET,
        "ticker": draw(name), "exchange": draw(name), "interval": draw(safe_text),
        "action": draw(st.sampled_from(["buy", "sell", "close", "flat", "BUY", "Sell", " close "])),
        "price": draw(st.one_of(price, price.map(repr))),
        "time": draw(st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S+00:00",
                                      "%Y-%m-%dT%H:%M:%S.%fZ"])).replace("%f", f"{when.microsecond:06d}"),
    }
    body["time"] = when.strftime(body["time"])
    for key, strategy in (("contracts", number), ("position_size", number.map(lambda v: -v if v else v)),
                          ("order_id", optional_name), ("strategy", optional_name), ("comment", optional_name),
                          ("alert_id", optional_name), ("schema", st.just("alphapulse.alert/1"))):
        if draw(st.booleans()):
            body[key] = draw(strategy)
    extras = draw(st.dictionaries(st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10)
                                  .filter(lambda k: k not in FIELDS), storable_value, max_size=3))
    body.update(extras)
    return body


CONTENT_TYPES = [None, "application/json", "text/plain", "text/plain; charset=utf-8",
                 "application/x-www-form-urlencoded", "multipart/form-data", "application/json; charset=latin-1"]
CHARACTERS = ["a", "Z", "0", " ", "\t", "\n", "\x00", "\x1f", "é", "✓", "𝔸", "\ud800", "\udfff", '"', "\\", "{"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(0, 12)))


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """Any JSON value, NUL characters, unpaired surrogates and extreme numbers included."""
    kind = rng.randrange(8 if depth < 3 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, -(2**63), 2**64, 10**30, rng.randrange(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.0, -0.0, 1e-320, 1.5, -2.5e10, 1.7976931348623157e308, rng.uniform(-1e6, 1e6)])
    if kind in (4, 5):
        return rng.choice(["", "buy", "2024-01-31T13:00:00Z", "1e999", "NaN", random_text(rng)])
    if kind == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_text(rng): random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def variants(base: dict[str, Any], rng: random.Random, count: int) -> list[tuple[bytes, str | None, bool]]:
    """``count`` requests derived from one valid alert: (body, Content-Type, must be accepted)."""
    out: list[tuple[bytes, str | None, bool]] = []
    for number in range(count):
        body = dict(base)
        valid = False
        kind = number % 10
        if kind == 0:  # as generated
            valid = True
        elif kind == 1:  # more free-form fields (storable: no NUL, no lone surrogate)
            for _ in range(rng.randrange(1, 4)):
                body[f"x_{rng.randrange(10**6)}"] = rng.choice([1, 2.5, "text ✓", [1, "a"], {"k": None}, True])
            valid = True
        elif kind == 2:  # a field dropped
            body.pop(rng.choice(FIELDS[2:]), None)
        elif kind == 3:  # a field replaced by any JSON value
            body[rng.choice(FIELDS)] = random_json(rng)
        elif kind == 4:  # a near-miss secret
            body["secret"] = rng.choice([SECRET[:-1], SECRET + "x", SECRET.upper(), SECRET[::-1], "",
                                         SECRET[: rng.randrange(len(SECRET))], random_json(rng)])
        elif kind == 5:  # a free-form field that cannot be stored or read
            body[random_text(rng) or "k"] = random_json(rng)
        raw = json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        if kind == 6:  # cut short
            raw = raw[: rng.randrange(len(raw))]
        elif kind == 7:  # one byte changed
            position = rng.randrange(len(raw))
            raw = raw[:position] + bytes([rng.randrange(256)]) + raw[position + 1 :]
        elif kind == 8:  # not an object, or not JSON at all
            raw = rng.choice([json.dumps([body]).encode(), json.dumps(random_json(rng)).encode(),
                              rng.randbytes(rng.randrange(64)), random_text(rng).encode("utf-8", "surrogatepass")])
        elif kind == 9:  # the same alert again: a resend
            valid = True
        out.append((raw, rng.choice(CONTENT_TYPES), valid))
    return out


@pytest.fixture(scope="module")
def fuzz_client(alerts_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("fuzz-spool")
    app = create_app(load_settings(database_url=alerts_db, webhook_secret=SECRET, feed_token=FEED_TOKEN,
                                   spool_dir=folder, rate_limit_per_minute=10**9, rate_limit_burst=10**6))
    with TestClient(app, client=("198.51.100.77", 1234)) as client:
        yield client


# psycopg_pool's workers (another thread) draw from `random` for back-off jitter while examples
# are generated, which Hypothesis reports as a strategy using `random`.
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzzed_requests_never_5xx_and_store_only_valid_rows(fuzz_client: TestClient, alerts_db: str) -> None:
    with psycopg.connect(alerts_db) as conn:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM alerts").fetchone()
    start_id = int(row[0]) if row else 0
    accepted: set[str] = set()
    sent = 0

    transport = httpx.ASGITransport(app=fuzz_client.app, client=("198.51.100.77", 1234))

    async def send(batch: list[tuple[bytes, str | None, bool]]) -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://webhook") as client:
            return await asyncio.gather(*(
                client.post("/webhook/tradingview", content=raw,
                            headers={"Content-Type": content_type} if content_type else {})
                for raw, content_type, _ in batch))

    @given(valid_alert(), st.randoms(use_true_random=False))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    def run(base: dict[str, Any], rng: random.Random) -> None:
        nonlocal sent
        batch = variants(base, rng, REQUESTS_PER_EXAMPLE)
        responses = fuzz_client.portal.call(send, batch)  # the requests of a batch run concurrently
        for (raw, _, valid), response in zip(batch, responses, strict=True):
            sent += 1
            assert response.status_code in ALLOWED, (response.status_code, response.text, raw[:300])
            answer = response.json()
            if valid:
                assert response.status_code == 200, (response.text, raw[:300])
            if response.status_code == 200:
                assert answer["status"] in ("stored", "duplicate")
                accepted.add(answer["idempotency_key"])
            else:
                assert answer["status"] == "rejected" and answer["error"]

    run()
    assert sent >= EXAMPLES * REQUESTS_PER_EXAMPLE
    with psycopg.connect(alerts_db) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, ticker, exchange, interval, action, price, bar_time, strategy, order_id, "
            "contracts, position_size, comment, payload FROM alerts WHERE id > %s ORDER BY id",
            (start_id,)).fetchall()
    assert {r[0] for r in rows} == accepted
    assert len(rows) == len(accepted)
    for key, ticker, exchange, interval, action, price_, when, strategy, order_id, contracts, size, comment, \
            payload in rows:
        alert = validate_alert({**payload, "secret": SECRET})  # every stored row is a valid alert
        assert alert.idempotency_key == key
        assert (alert.ticker, alert.exchange, alert.interval, alert.action, alert.price, alert.time) == \
            (ticker, exchange, interval, action, price_, when)
        assert (alert.strategy, alert.order_id, alert.contracts, alert.position_size, alert.comment) == \
            (strategy, order_id, contracts, size, comment)
