"""The engine suite's fixtures: a platform on each database with an admin and a plain user."""

from tests.engine.conftest import (  # noqa: F401 - fixtures
    anon,
    client,
    platform,
    postgres_system_ddl,
    settings,
    sqlite_system_template,
    system_database_url,
)
