-- TimescaleDB: hypertables on the time columns, compressed by run once chunks are old.
SELECT create_hypertable('signals', 'time', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('signal_patterns', 'time', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('order_events', 'time', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('fills', 'time', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('equity', 'time', chunk_time_interval => INTERVAL '30 days');
SELECT create_hypertable('trades', 'exit_time', chunk_time_interval => INTERVAL '30 days');

ALTER TABLE signals SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                         timescaledb.compress_orderby = 'time, signal_id');
ALTER TABLE signal_patterns SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                                 timescaledb.compress_orderby = 'time, signal_id, pattern');
ALTER TABLE order_events SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                              timescaledb.compress_orderby = 'time, order_id, order_event_id');
ALTER TABLE fills SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                       timescaledb.compress_orderby = 'time, fill_id');
ALTER TABLE equity SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                        timescaledb.compress_orderby = 'time');
ALTER TABLE trades SET (timescaledb.compress, timescaledb.compress_segmentby = 'run_id',
                        timescaledb.compress_orderby = 'exit_time, trade_no');

SELECT add_compression_policy('signals', INTERVAL '30 days');
SELECT add_compression_policy('signal_patterns', INTERVAL '30 days');
SELECT add_compression_policy('order_events', INTERVAL '30 days');
SELECT add_compression_policy('fills', INTERVAL '30 days');
SELECT add_compression_policy('equity', INTERVAL '30 days');
SELECT add_compression_policy('trades', INTERVAL '30 days');
