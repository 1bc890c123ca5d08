SELECT add_continuous_aggregate_policy('daily_pnl', start_offset => NULL,
                                       end_offset => INTERVAL '1 hour',
                                       schedule_interval => INTERVAL '1 hour');
SELECT add_continuous_aggregate_policy('daily_pattern_signals', start_offset => NULL,
                                       end_offset => INTERVAL '1 hour',
                                       schedule_interval => INTERVAL '1 hour');
