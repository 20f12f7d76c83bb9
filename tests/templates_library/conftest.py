"""The templates' fixtures: the kernel's platform on each database, and one with every engine the
CRM's flows use."""

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Generic, TypeVar

import pytest
import sqlalchemy as sa

from engine import Platform, Settings
from flow_engine import plugin as flow_plugin
from flow_engine.marketing import MarketingPlugin, MarketingSettings
from flow_engine.notify import NotifyPlugin, SmtpSettings
from flow_engine.webhooks import WebhookPlugin
from tests.conftest import PG_URL_ENV
from tests.engine.conftest import (  # noqa: F401 - fixtures
    anon,
    client,
    platform,
    postgres_system_ddl,
    settings,
    sqlite_system_template,
    system_database_url,
)
from tests.flow_engine.notify.conftest import Mailbox, mailbox  # noqa: F401 - fixture

T = TypeVar("T")

#: Where the CRM's e-mails say the server is (links and tracking pixels point at it).
PUBLIC_URL = "https://crm.example.cn"


@pytest.fixture
def crm_smtp(mailbox: tuple[Mailbox, int]) -> SmtpSettings:  # noqa: F811 - the fixture above
    return SmtpSettings(host="127.0.0.1", port=mailbox[1], sender="crm@example.cn", sender_name="客户系统")


def crm_plugins(smtp: SmtpSettings) -> list[object]:
    """Every engine the CRM's flows use: flows, notifications and marketing (e-mail through
    ``smtp``), and webhooks."""
    return [
        flow_plugin,
        NotifyPlugin(smtp),
        WebhookPlugin(),
        MarketingPlugin(MarketingSettings(public_url=PUBLIC_URL), smtp),
    ]


@pytest.fixture
def crm_platform(
    database_url: str,
    settings: Settings,  # noqa: F811 - the fixture imported above
    crm_smtp: SmtpSettings,
) -> Iterator[Platform]:
    """A platform on the per-test database (both backends) with every engine the CRM's flows
    use: flows, notifications and marketing (e-mail through the test's own SMTP server)."""
    running = Platform(settings, plugins=crm_plugins(crm_smtp), load_entry_points=False)
    running.init_database()
    try:
        yield running
    finally:
        running.close()


class Snapshots(Generic[T]):
    """Databases set up once per session by ``set_up(url, data_dir)``, one per backend, built at
    first use; each test then works on its own copy: the SQLite file copied, or on PostgreSQL a
    database made with ``CREATE DATABASE ... TEMPLATE`` and dropped after the test. Installing
    the CRM and filling it took most of the time of each test that needs it.

    ``set_up`` must leave no connection open: PostgreSQL copies a database nobody is using."""

    def __init__(self, request: pytest.FixtureRequest, set_up: Callable[[str, Path], T]) -> None:
        self._request = request
        self._set_up = set_up
        self._built: dict[str, tuple[str, T]] = {}
        self._engine: sa.Engine | None = None
        self._stack = ExitStack()
        self._folder = Path(self._stack.enter_context(tempfile.TemporaryDirectory()))

    def close(self) -> None:
        self._stack.close()

    def _admin(self) -> sa.Engine:
        """An engine of its own on the server: the session's database and its engine are gone
        before this object drops its databases."""
        if self._engine is None:
            self._request.getfixturevalue("postgres_database")  # fails or skips as it does
            url = sa.make_url(os.environ[PG_URL_ENV])
            self._engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
            self._stack.callback(self._engine.dispose)
        return self._engine

    def _build(self, kind: str) -> tuple[str, T]:
        if kind not in self._built:
            if kind == "sqlite":
                path = self._folder / "snapshot.db"
                self._built[kind] = str(path), self._set_up(f"sqlite:///{path}", self._folder / "data")
            else:
                name = self._stack.enter_context(self._postgres_database(None))
                url = sa.make_url(self._request.getfixturevalue("postgres_database")).set(database=name)
                found = self._set_up(url.render_as_string(hide_password=False), self._folder / "pg-data")
                self._built[kind] = name, found
        return self._built[kind]

    @contextmanager
    def _postgres_database(self, template: str | None) -> Iterator[str]:
        name = f"tangram_copy_{uuid.uuid4().hex[:12]}"
        with self._admin().connect() as conn:
            copied = f' TEMPLATE "{template}"' if template else ""
            conn.execute(sa.text(f'CREATE DATABASE "{name}"{copied}'))
            # As the session's database: atomicity and visibility unchanged, commits cheap.
            conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        try:
            yield name
        finally:
            with self._admin().connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    @contextmanager
    def copy(self, database_url: str) -> Iterator[tuple[str, T]]:
        """The URL of this test's copy on ``database_url``'s backend (a SQLite file is copied to
        ``database_url`` itself), and what ``set_up`` returned."""
        url = sa.make_url(database_url)
        kind = url.get_backend_name()
        source, found = self._build(kind)
        if kind == "sqlite":
            assert url.database
            shutil.copyfile(source, url.database)
            yield database_url, found
            return
        with self._postgres_database(source) as name:
            copy = url.set(database=name).difference_update_query(["options"])
            yield copy.render_as_string(hide_password=False), found


@contextmanager
def snapshots(request: pytest.FixtureRequest, set_up: Callable[[str, Path], T]) -> Iterator[Snapshots[T]]:
    found = Snapshots(request, set_up)
    try:
        yield found
    finally:
        found.close()
