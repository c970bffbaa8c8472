"""Alembic environment of the sequencer's database (`service.db.run_alembic_env`): the connection
`sequencer.db.migrate.upgrade_head` passes, or by hand (`alembic -c sequencer/alembic.ini upgrade
head`) the database of `MLROLLUP_DATABASE_URL` or `DATABASE_URL`."""

from alembic import context

from sequencer.db.migrate import MIGRATIONS
from service.db import run_alembic_env

run_alembic_env(context, MIGRATIONS, ("MLROLLUP_DATABASE_URL", "DATABASE_URL"))
