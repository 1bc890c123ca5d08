CREATE UNIQUE INDEX daily_pnl_key ON daily_pnl (run_id, symbol, day);
CREATE UNIQUE INDEX daily_pattern_signals_key ON daily_pattern_signals (run_id, pattern, direction, day);
REFRESH MATERIALIZED VIEW daily_pnl;
REFRESH MATERIALIZED VIEW daily_pattern_signals;
