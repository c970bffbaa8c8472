"""Alembic migrations of the sequencer's database (run at start by `sequencer.db.migrate`)."""
