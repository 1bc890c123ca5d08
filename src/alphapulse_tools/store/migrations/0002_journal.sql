-- Time-series tables of the journal. Written for plain PostgreSQL (range partitions on time);
-- in Timescale mode the PARTITION BY clause is dropped and the table becomes a hypertable instead.
-- Every unique key holds the time column (a rule of both partitioned tables and hypertables) and
-- the run, so exporting the same source again stores nothing twice.

-- alphapulse.signal/1 records (alphapulse.journal.Signal); time = the bar's start.
CREATE TABLE signals (
    run_id       bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    signal_id    text NOT NULL,
    time         timestamptz NOT NULL,
    strategy     text NOT NULL,
    symbol       text NOT NULL,
    market       text NOT NULL,
    interval     text NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('long', 'short', 'flat')),
    entry        double precision,
    stop         double precision,
    target       double precision,
    risk_reward  double precision,
    score        double precision NOT NULL,
    factors      jsonb NOT NULL DEFAULT '{}'::jsonb,
    patterns     jsonb NOT NULL DEFAULT '[]'::jsonb,
    reason       text NOT NULL DEFAULT '',
    max_bars     integer,
    PRIMARY KEY (run_id, signal_id, time)
) PARTITION BY RANGE (time);

-- One row per pattern hit of a signal (the same hits as signals.patterns, flat for aggregation).
CREATE TABLE signal_patterns (
    run_id      bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    signal_id   text NOT NULL,
    time        timestamptz NOT NULL,
    pattern     text NOT NULL,
    symbol      text NOT NULL,
    direction   text NOT NULL,
    value       integer NOT NULL,
    confidence  double precision NOT NULL,
    PRIMARY KEY (run_id, signal_id, pattern, time)
) PARTITION BY RANGE (time);

-- Every order event Lean reports (submitted, partiallyFilled, filled, canceled, invalid, ...).
CREATE TABLE order_events (
    run_id               bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    order_id             integer NOT NULL,
    order_event_id       integer NOT NULL,
    time                 timestamptz NOT NULL,
    symbol               text NOT NULL,
    symbol_id            text NOT NULL DEFAULT '',
    status               text NOT NULL,
    direction            text NOT NULL,
    quantity             double precision,
    fill_quantity        double precision,
    fill_price           double precision,
    fill_price_currency  text,
    fee                  double precision,
    fee_currency         text,
    stop_price           double precision,
    limit_price          double precision,
    is_assignment        boolean NOT NULL DEFAULT false,
    message              text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, order_id, order_event_id, time)
) PARTITION BY RANGE (time);

-- Order events that filled, in alphapulse.fill/1 form (quantity signed, fee in fee_currency).
CREATE TABLE fills (
    run_id        bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    fill_id       text NOT NULL,
    time          timestamptz NOT NULL,
    algorithm     text NOT NULL,
    order_id      integer NOT NULL,
    symbol        text NOT NULL,
    market        text NOT NULL,
    quantity      double precision NOT NULL,
    price         double precision NOT NULL,
    fee           double precision NOT NULL,
    fee_currency  text NOT NULL,
    order_type    text NOT NULL,
    signal_id     text NOT NULL DEFAULT '',
    tag           text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, fill_id, time)
) PARTITION BY RANGE (time);

-- Portfolio value over time (Lean's "Strategy Equity" chart, closing value of each point).
CREATE TABLE equity (
    run_id  bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    time    timestamptz NOT NULL,
    equity  double precision NOT NULL,
    PRIMARY KEY (run_id, time)
) PARTITION BY RANGE (time);

-- Closed round trips (Lean's totalPerformance.closedTrades); trade_no is the position in that list.
CREATE TABLE trades (
    run_id       bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    trade_no     integer NOT NULL,
    exit_time    timestamptz NOT NULL,
    entry_time   timestamptz NOT NULL,
    symbol       text NOT NULL,
    direction    text NOT NULL,
    quantity     double precision NOT NULL,
    entry_price  double precision NOT NULL,
    exit_price   double precision NOT NULL,
    profit_loss  double precision NOT NULL,
    fees         double precision NOT NULL,
    mae          double precision,
    mfe          double precision,
    signal_id    text NOT NULL DEFAULT '',  -- the entry's signal when the result names it (local runner)
    PRIMARY KEY (run_id, trade_no, exit_time)
) PARTITION BY RANGE (exit_time);
