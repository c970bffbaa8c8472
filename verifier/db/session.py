"""The verifier's engines and sessions: `service.db`'s (SQLite in WAL mode with `BEGIN IMMEDIATE`
writers, or PostgreSQL through psycopg 3), as the sequencer's."""

from service.db import BUSY_TIMEOUT_MS, Database, is_sqlite, make_engine

__all__ = ["BUSY_TIMEOUT_MS", "Database", "is_sqlite", "make_engine"]
