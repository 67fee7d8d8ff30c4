"""Alembic environment: the caller passes an open connection (see backend.store.db.migrate)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from backend.store import models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:  # the alembic command line: ALEMBIC_URL or sqlalchemy.url
    url = config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as conn:
        _configure(conn)
