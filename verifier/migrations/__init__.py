"""Alembic migrations of the verifier's database (run at start by `verifier.db.migrate`)."""
