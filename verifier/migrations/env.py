"""Alembic environment of the verifier's database (`service.db.run_alembic_env`): the connection
`verifier.db.migrate.upgrade_head` passes, or by hand (`alembic -c verifier/alembic.ini upgrade head`)
the database of `MLROLLUP_VERIFIER_DATABASE_URL`. Its version table is `verifier_alembic_version`."""

from alembic import context

from service.db import run_alembic_env
from verifier.db.migrate import MIGRATIONS

run_alembic_env(context, MIGRATIONS, ("MLROLLUP_VERIFIER_DATABASE_URL",))
