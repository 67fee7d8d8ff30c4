"""Database fixtures: every store test runs on SQLite and on PostgreSQL (``postgres_url``,
in tests/conftest.py)."""
from __future__ import annotations

import uuid

import pytest



@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'abacus.db'}"
        return
    import sqlalchemy as sa

    admin_url = request.getfixturevalue("postgres_url")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db(db_url):
    from backend.store.db import Database

    database = Database(db_url)
    database.migrate()
    yield database
    database.dispose()
