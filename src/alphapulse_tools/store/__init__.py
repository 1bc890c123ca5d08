"""The journal store: PostgreSQL / TimescaleDB schema, exporter of Lean and local-runner results.

``migrations.migrate(conn)`` creates or upgrades the schema; ``exporter.export_sources`` loads
result folders and ObjectStore journals; ``follow.follow`` tails journals as Lean writes them.
"""
