"""P5: the exporter's idempotent bulk load against a raw COPY into the same table, same run.

Creates a throwaway database (from ``TEST_DATABASE_URL``, default the local server's ``postgres``
database), migrates it, and loads N fills (``--rows``, default 100,000) three times each way:

- raw COPY: ``COPY fills FROM STDIN`` straight into the table (no conflict handling);
- idempotent: :func:`alphapulse_tools.store.exporter.load_rows` with COPY into a staging table and
  ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (what ``alphapulse export`` does);
- for information: the same load again (every row a conflict), and the executemany path.

Each repetition loads a new run (no conflicts between repetitions) in one transaction, commit
included in the time. Prints medians and the ratio idempotent rows/s ÷ raw COPY rows/s (goal ≥ 0.5).

    .venv/bin/python benchmarks/bench_export.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from alphapulse.bars import from_ns
from alphapulse_tools.store.exporter import COLUMNS, ensure_partitions, load_rows
from alphapulse_tools.store.migrations import migrate
from alphapulse_tools.store.mode import StoreMode

START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z


def fill_rows(run_id: int, count: int) -> list[tuple[Any, ...]]:
    """``count`` fills of one run, one a minute from 2024-01-01, in COLUMNS['fills'] order."""
    rows = []
    for i in range(count):
        quantity = 0.01 * (1 + i % 7) * (1 if i % 2 == 0 else -1)
        price = 40_000.0 + (i % 1000) * 3.5
        rows.append((run_id, f"{run_id:08x}{i:016x}", from_ns(START_NS + i * 60_000_000_000), "Bench",
                     i // 2 + 1, "BTCUSDT", "binance", quantity, price, abs(quantity) * price * 0.001,
                     "USDT", "market", "", ""))
    return rows


def new_run(conn: psycopg.Connection) -> int:
    row = conn.execute("INSERT INTO runs (run_key, kind, algorithm, source_path) VALUES (%s, 'backtest', "
                       "'Bench', '-') RETURNING id", (uuid.uuid4().hex,)).fetchone()
    assert row is not None
    return int(row[0])


def timed(conn: psycopg.Connection, load: Callable[[list[tuple[Any, ...]]], object], count: int,
          rows: list[tuple[Any, ...]] | None = None) -> float:
    """Seconds to load ``count`` rows of a new run (or ``rows`` again) in one committed transaction."""
    rows = rows if rows is not None else fill_rows(new_run(conn), count)
    started = time.perf_counter()
    with conn.transaction():
        load(rows)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"alphapulse_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{admin_url.rpartition('/')[0]}/{name}", autocommit=True) as conn:
            report = migrate(conn, StoreMode.PLAIN)
            version = conn.execute("SHOW server_version").fetchone()
            print(f"PostgreSQL {version[0] if version else '?'}, {report}, {args.rows:,} fills per load")
            with conn.transaction():
                ensure_partitions(conn, "fills", {2024, 2025})
            names = ", ".join(COLUMNS["fills"])

            def raw_copy(rows: list[tuple[Any, ...]]) -> None:
                with conn.cursor() as cursor, cursor.copy(f"COPY fills ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)

            def idempotent(rows: list[tuple[Any, ...]]) -> None:
                load_rows(conn, "fills", rows, use_copy=True)

            def executemany(rows: list[tuple[Any, ...]]) -> None:
                load_rows(conn, "fills", rows, use_copy=False)

            results: dict[str, list[float]] = {"raw COPY": [], "idempotent (COPY + staging)": [],
                                               "idempotent, all rows already stored": [],
                                               "idempotent (executemany)": []}
            for _ in range(args.repeat):  # interleaved, so drift hits every method alike
                results["raw COPY"].append(timed(conn, raw_copy, args.rows))
                rows = fill_rows(new_run(conn), args.rows)
                results["idempotent (COPY + staging)"].append(timed(conn, idempotent, args.rows, rows))
                again = timed(conn, idempotent, args.rows, rows)
                results["idempotent, all rows already stored"].append(again)
                results["idempotent (executemany)"].append(timed(conn, executemany, args.rows))
            medians = {label: statistics.median(seconds) for label, seconds in results.items()}
            for label, seconds in medians.items():
                print(f"{label:40s} median {seconds:7.3f} s  {args.rows / seconds:>10,.0f} rows/s")
            ratio = medians["raw COPY"] / medians["idempotent (COPY + staging)"]
            print(f"P5 ratio: idempotent rows/s / raw COPY rows/s = {ratio:.2f} (goal >= 0.5)")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
