-- Daily rollups, with the same names in both modes: continuous aggregates under TimescaleDB,
-- materialized views (refreshed CONCURRENTLY after each export) on plain PostgreSQL.
-- {bucket(col)} is time_bucket('1 day', col) or date_bin('1 day', col, '2000-01-03') by mode.

-- Realised P&L and fees per run, symbol and day of exit.
CREATE MATERIALIZED VIEW daily_pnl {continuous} AS
SELECT run_id,
       symbol,
       {bucket(exit_time)} AS day,
       sum(profit_loss) AS profit_loss,
       sum(fees) AS fees,
       count(*) AS trades,
       sum(CASE WHEN profit_loss > 0 THEN 1 ELSE 0 END) AS wins
FROM trades
GROUP BY run_id, symbol, {bucket(exit_time)}
WITH NO DATA;

-- Signals per candlestick pattern, direction and day.
CREATE MATERIALIZED VIEW daily_pattern_signals {continuous} AS
SELECT run_id,
       pattern,
       direction,
       {bucket(time)} AS day,
       count(*) AS signals,
       avg(confidence) AS mean_confidence
FROM signal_patterns
GROUP BY run_id, pattern, direction, {bucket(time)}
WITH NO DATA;
