-- Plain PostgreSQL: a DEFAULT partition per table (yearly partitions are added by the exporter
-- before it loads rows of a new year) and BRIN indexes on the append-mostly time columns.
CREATE TABLE signals_default PARTITION OF signals DEFAULT;
CREATE TABLE signal_patterns_default PARTITION OF signal_patterns DEFAULT;
CREATE TABLE order_events_default PARTITION OF order_events DEFAULT;
CREATE TABLE fills_default PARTITION OF fills DEFAULT;
CREATE TABLE equity_default PARTITION OF equity DEFAULT;
CREATE TABLE trades_default PARTITION OF trades DEFAULT;

CREATE INDEX signals_time_brin ON signals USING brin (time);
CREATE INDEX signal_patterns_time_brin ON signal_patterns USING brin (time);
CREATE INDEX order_events_time_brin ON order_events USING brin (time);
CREATE INDEX fills_time_brin ON fills USING brin (time);
CREATE INDEX equity_time_brin ON equity USING brin (time);
CREATE INDEX trades_exit_time_brin ON trades USING brin (exit_time);
