"""Database fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL is a throwaway cluster made with Debian's postgresql-15 binaries
(initdb + pg_ctl) in a temporary folder, listening on 127.0.0.1 and a free port. As root,
initdb refuses to run, so the cluster runs as the ``postgres`` user (runuser). The tests
skip PostgreSQL only when the binaries are missing (apt-get install postgresql).
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

PG_BIN_DIRS = [os.environ.get("ABACUS_PG_BIN", ""), "/usr/lib/postgresql/15/bin"]


def _pg_bin() -> Path | None:
    for d in PG_BIN_DIRS:
        if d and (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url():
    """URL of the superuser ``abacus`` on a fresh PostgreSQL cluster (maintenance db ``postgres``)."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="abacus-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log = base / "data", base / "server.log"
    port = _free_port()
    subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "abacus", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    started = subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                              "-o", f"-h 127.0.0.1 -p {port} -k {base} -F", "start"], capture_output=True, text=True)
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{detail}")
    try:
        yield f"postgresql+psycopg://abacus@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


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
