"""The platform object: database, compiled apps, services, events and plugins, wired once.

This is the composition root: it builds the services and hands each one the narrow pieces it
uses (a connection factory, a runtime lookup, the access policy, the steps), so nothing below
it needs the platform itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pluggy
import sqlalchemy as sa

from engine.access import AccessPolicy, RoleAccess
from engine.apps import metadata_store
from engine.apps.runtime import AppRuntime, RuntimeCache
from engine.host.actions import ActionRegistry
from engine.host.known_actions import remember_actions
from engine.host.plugins import create_plugin_manager
from engine.records import (
    EventBus,
    FileStore,
    RecordEvent,
    RecordService,
    Writer,
    WriteStep,
    WriteUnit,
    after_commit,
)
from engine.schema import calendar_days
from engine.schema.database import create_database_engine, create_system_tables
from engine.schema.migrations import hold_app_schema
from engine.settings import Settings

#: The PostgreSQL advisory lock that serialises creating the platform's tables across processes.
SETUP_LOCK = 0x74616E6772616D  # "tangram"


class Platform:
    """One per process. Holds no per-request state: callers pass a ``Context``."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        plugins: Iterable[object] = (),
        load_entry_points: bool = True,
        access: AccessPolicy | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.db: sa.Engine = create_database_engine(
            self.settings.resolved_database_url(), busy_timeout=self.settings.sqlite_busy_timeout_seconds
        )
        self.events = EventBus()
        self.actions = ActionRegistry()
        self._runtimes = RuntimeCache()
        self.access: AccessPolicy = access or RoleAccess()
        self.plugins: pluggy.PluginManager = create_plugin_manager(
            plugins, load_entry_points=load_entry_points, modules=self.settings.plugin_modules()
        )
        self.files = FileStore(self.settings.data_dir)
        writer = Writer(
            self.db,
            self.runtime,
            self.access,
            self.write_steps,
            self.files,
            self._before_commit,
            self.publish,
        )
        self.records = RecordService(self.db, self.runtime, self.known_runtime, self.access, writer)
        self.plugins.hook.tangram_actions(registry=self.actions)
        remember_actions(self.actions)
        self.events.subscribe(self._to_plugins)

    def init_database(self) -> None:
        """Create the platform's own tables (idempotent); run by ``tangram init`` and ``serve``.

        On PostgreSQL one process at a time: workers starting together would otherwise race to
        create the same tables (``CREATE TABLE`` checked first is not atomic), the plugins' too."""
        with self._setup_lock():
            create_system_tables(self.db)
            calendar_days.install(self.db)
            self.plugins.hook.tangram_startup(platform=self)

    @contextmanager
    def _setup_lock(self) -> Iterator[None]:
        if self.db.dialect.name != "postgresql":
            yield
            return
        with self.db.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK})
                conn.commit()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        """One transaction for several things that must commit together (record writes with
        ``records.write(..., conn=conn)``, ``engine.enqueue_job``, a plugin's own rows); the
        record events of the writes in it are published after it commits."""
        with after_commit.transaction(self.db) as conn:
            yield conn

    def runtime(self, conn: sa.Connection, app: str) -> AppRuntime:
        """The compiled app, current as of this transaction, whose tables stay as it knows
        them until the transaction ends (a migration of another process waits for it)."""
        hold_app_schema(conn, app, exclusive=False)
        version = metadata_store.app_version(conn, app)
        if version is None:
            raise metadata_store.app_not_found(app)

        def load() -> tuple[Any, int]:
            stored = metadata_store.load_app(conn, app)
            return stored.package, stored.version

        return self._runtimes.get(app, version, load)

    def cached_runtime(self, app: str) -> AppRuntime:
        """The current compiled app (one version query on a connection of its own)."""
        with self.db.connect() as conn:
            return self.runtime(conn, app)

    def known_runtime(self, app: str) -> AppRuntime:
        """The compiled app this thread last resolved (else the process), without asking the
        database; for turning the records a service call just returned into JSON with the
        version they were read with, even if another request meanwhile met a newer one."""
        return self._runtimes.peek(app) or self.cached_runtime(app)

    def write_steps(self) -> Sequence[WriteStep]:
        """Every step of a record write: the kernel's first, then each plugin's."""
        return [step for steps in self.plugins.hook.tangram_write_steps() if steps for step in steps]

    def _before_commit(self, unit: WriteUnit) -> None:
        self.plugins.hook.tangram_before_commit(unit=unit)

    def publish(self, event: RecordEvent) -> None:
        self.events.publish(event)

    def _to_plugins(self, event: RecordEvent) -> None:
        self.plugins.hook.tangram_record_event(event=event, platform=self)

    def close(self) -> None:
        self.db.dispose()
