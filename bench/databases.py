"""The databases a benchmark runs on: a SQLite file in a temporary folder, and a fresh
PostgreSQL database (dropped afterwards) when TANGRAM_BENCH_DATABASE_URL or
TANGRAM_TEST_DATABASE_URL names a server."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


def postgres_base_url() -> str | None:
    return os.environ.get("TANGRAM_BENCH_DATABASE_URL") or os.environ.get("TANGRAM_TEST_DATABASE_URL")


def backends(choice: str) -> Iterator[str]:
    """The backends asked for (``sqlite``, ``postgresql`` or ``all``), saying which it skips."""
    for kind in ["sqlite", "postgresql"] if choice == "all" else [choice]:
        if kind == "postgresql" and not postgres_base_url():
            print("postgresql skipped: set TANGRAM_BENCH_DATABASE_URL (or TANGRAM_TEST_DATABASE_URL)")
            continue
        yield kind


@contextmanager
def database(kind: str) -> Iterator[str]:
    """The URL of an empty database of ``kind``, gone when the block ends."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    base_url = postgres_base_url()
    if base_url is None:
        raise RuntimeError("set TANGRAM_BENCH_DATABASE_URL or TANGRAM_TEST_DATABASE_URL")
    base = sa.make_url(base_url)
    name = f"tangram_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
