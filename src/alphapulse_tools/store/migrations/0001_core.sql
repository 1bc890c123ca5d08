-- Plain tables shared by both modes: instruments, runs, webhook alerts, follow-mode offsets.

CREATE TABLE instruments (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    symbol      text NOT NULL,
    market      text NOT NULL,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (symbol, market)
);

-- One backtest or live session. run_key is stable for the same source (result folder or
-- storage folder), so a re-export finds the run again instead of adding a new one.
CREATE TABLE runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_key      text NOT NULL UNIQUE,
    kind         text NOT NULL CHECK (kind IN ('backtest', 'live')),
    algorithm    text NOT NULL,
    parameters   jsonb NOT NULL DEFAULT '{}'::jsonb,
    statistics   jsonb NOT NULL DEFAULT '{}'::jsonb,
    start_time   timestamptz,
    end_time     timestamptz,
    source_path  text NOT NULL,
    exported_at  timestamptz NOT NULL DEFAULT now()
);

-- TradingView webhook alerts, as received (a plain table in both modes: small, needs the unique key).
CREATE TABLE alerts (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL DEFAULT now(),
    idempotency_key  text NOT NULL UNIQUE,
    schema_version   int NOT NULL,
    ticker           text NOT NULL,
    exchange         text,
    interval         text,
    action           text NOT NULL,
    price            double precision,
    bar_time         timestamptz,
    strategy         text,
    order_id         text,
    contracts        double precision,
    position_size    double precision,
    comment          text,
    source_ip        text,
    payload          jsonb NOT NULL,
    -- the inserting transaction: a feed reads rows with txid < pg_snapshot_xmin(pg_current_snapshot())
    -- ordered by (txid, id), so a page never skips a row that commits later
    txid             xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX alerts_received_at ON alerts (received_at);
CREATE INDEX alerts_txid_id ON alerts (txid, id);

-- Follow mode: how far each journal file has been loaded (bytes of complete lines), and a digest
-- of the bytes just before that offset, to notice a file replaced by a different one.
CREATE TABLE follow_offsets (
    path         text PRIMARY KEY,
    run_id       bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    byte_offset  bigint NOT NULL CHECK (byte_offset >= 0),
    tail_digest  text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now()
);
