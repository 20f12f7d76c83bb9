"""The record service: records as callers ask for them, whoever they are.

Every change goes through the write unit (``engine.records.writer``): access, validation,
references, write steps, history and events in one transaction. Optimistic concurrency through
``version``: a write based on a stale version is refused, never silently merged. Reads apply the
caller's row scope and field rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from engine.access import AccessPolicy
from engine.apps.record_query import filter_clause, order_by, page_bounds
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.apps.search import search_clause
from engine.context import Context
from engine.errors import Forbidden, NotFound
from engine.identity import directory
from engine.records import history, idempotency, relation_reads, titles
from engine.records.loader import not_found, scoped_rows, visible_row
from engine.records.writer import WriteOptions, Writer, WriteUnit
from engine.schema.pinyin_order import text_collation

Record = dict[str, Any]
T = TypeVar("T")
RuntimeOf = Callable[[sa.Connection, str], AppRuntime]


@dataclass(frozen=True)
class Page:
    items: list[Record]
    total: int
    limit: int
    offset: int


class RecordService:
    """Records as callers ask for them: every change through the write unit, reads under the
    caller's access policy."""

    def __init__(
        self,
        db: sa.Engine,
        runtime_of: RuntimeOf,
        known_runtime: Callable[[str], AppRuntime],
        access: AccessPolicy,
        writer: Writer,
    ) -> None:
        self.db = db
        self._runtime_of = runtime_of
        self._known_runtime = known_runtime
        self.access = access
        self.writer = writer

    # -- plumbing --------------------------------------------------------------------------
    def runtime(self, conn: sa.Connection, app: str) -> AppRuntime:
        """The compiled app, current as of this transaction."""
        return self._runtime_of(conn, app)

    def _runtime(self, conn: sa.Connection, app: str, entity: str) -> tuple[AppRuntime, EntityRuntime]:
        runtime = self._runtime_of(conn, app)
        return runtime, runtime.entity(entity)

    def write(
        self,
        ctx: Context,
        app: str,
        work: Callable[[WriteUnit], T],
        *,
        options: WriteOptions | None = None,
        conn: sa.Connection | None = None,
    ) -> T:
        """Run ``work`` on a write unit of ``app``: one transaction, events after the commit.
        The door for anything that changes several records at once (merge, transfer, import).
        With ``conn`` (from ``platform.transaction()``, or a job's ``call.conn``) the unit joins
        that transaction and its events wait for its commit (see ``Writer.run``)."""
        return self.writer.run(ctx, app, work, options=options or WriteOptions(), conn=conn)

    def _shown(
        self, unit: WriteUnit, er: EntityRuntime, records: list[Record], *, children: bool = True
    ) -> list[Record]:
        """Records as a write returns them: roll-ups re-read, relations attached as the caller
        may read them (sub-table rows only with ``children``)."""
        view = self._child_view(unit.ctx, unit.conn)
        relation_reads.refresh(unit.conn, unit.runtime, er, records, view, children=children)
        return records

    # -- writes ----------------------------------------------------------------------------
    def create(
        self,
        ctx: Context,
        app: str,
        entity: str,
        data: Mapping[str, Any],
        *,
        form: str | None = None,
        options: WriteOptions | None = None,
        idempotency_key: str | None = None,
    ) -> Record:
        """Create one record; ``form`` names the form the values come from (its conditions
        apply). With ``idempotency_key``, a retry answers the record the first request made."""
        return self._create(ctx, app, entity, [data], [""], form, options, idempotency_key, children=True)[0]

    def bulk_create(
        self,
        ctx: Context,
        app: str,
        entity: str,
        items: Sequence[Any],
        *,
        form: str | None = None,
        options: WriteOptions | None = None,
        pointers: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> list[Record]:
        """Create many records in one transaction: all of them, or none and every problem
        listed (item ``i`` located at ``pointers[i]``, ``/items/i`` unless given). The records
        come back as stored, without their sub-table rows (``get`` shows those). With
        ``idempotency_key``, a retry answers the records the first request made."""
        at = list(pointers) if pointers is not None else [f"/items/{i}" for i in range(len(items))]
        return self._create(ctx, app, entity, items, at, form, options, idempotency_key, children=False)

    def _create(
        self,
        ctx: Context,
        app: str,
        entity: str,
        items: Sequence[Any],
        pointers: list[str],
        form: str | None,
        options: WriteOptions | None,
        key: str | None,
        *,
        children: bool,
    ) -> list[Record]:
        def create(unit: WriteUnit) -> list[Record]:
            er = unit.runtime.entity(entity)
            records = unit.create(er, items, pointers=pointers, form=form)
            return self._shown(unit, er, records, children=children)

        user_id = ctx.user_id
        if key is None or user_id is None:
            return self.write(ctx, app, create, options=options)
        idempotency.check_key(key)
        digest = idempotency.fingerprint(app, entity, items)

        def create_once(unit: WriteUnit) -> list[Record]:
            earlier = idempotency.stored_ids(unit.conn, user_id, key, digest)
            if earlier is not None:  # a retry: what the first request made, as it is now
                er = unit.runtime.entity(entity)
                found = scoped_rows(unit.conn, unit.access, unit.ctx, er, earlier, "read")
                return self._shown(unit, er, [found[i] for i in earlier if i in found], children=children)
            claimed = idempotency.claim(unit.conn, user_id, key, digest)
            records = create(unit)
            idempotency.complete(unit.conn, claimed, [r["id"] for r in records])
            return records

        try:
            return self.write(ctx, app, create_once, options=options)
        except sa.exc.IntegrityError:
            # A concurrent request with the same key committed first: answer what it made.
            return self.write(ctx, app, create_once, options=options)

    def update(
        self,
        ctx: Context,
        app: str,
        entity: str,
        record_id: int,
        data: Mapping[str, Any],
        *,
        version: int | None = None,
        form: str | None = None,
        options: WriteOptions | None = None,
    ) -> Record:
        """Change some fields. With ``version``, refuse if the record moved on since then."""

        def work(unit: WriteUnit) -> Record:
            er = unit.runtime.entity(entity)
            records = unit.update(er, [(record_id, data)], pointers=[""], versions=[version], form=form)
            return self._shown(unit, er, records)[0]

        return self.write(ctx, app, work, options=options)

    def delete(
        self, ctx: Context, app: str, entity: str, record_id: int, *, version: int | None = None
    ) -> Record:
        """Move a record to the trash; ``restore`` brings it back."""
        return self.write(
            ctx, app, lambda unit: unit.delete(unit.runtime.entity(entity), [record_id], version=version)[0]
        )

    def restore(self, ctx: Context, app: str, entity: str, record_id: int) -> Record:
        return self.write(ctx, app, lambda unit: unit.restore(unit.runtime.entity(entity), [record_id])[0])

    def purge(self, ctx: Context, app: str, entity: str, record_id: int) -> None:
        """Delete a trashed record for good, with its history."""
        self.write(ctx, app, lambda unit: unit.purge(unit.runtime.entity(entity), [record_id]))

    # -- reads -----------------------------------------------------------------------------
    def _child_view(self, ctx: Context, conn: sa.Connection) -> relation_reads.ViewOf:
        """Sub-table rows shown inside a parent obey the child entity's own read rules."""
        access = self.access

        def view(child: EntityRuntime) -> relation_reads.ChildView | None:
            try:
                access.require(ctx, child, "read")
            except Forbidden:
                return None
            return relation_reads.ChildView(
                access.row_filter(ctx, conn, child, "read"), lambda r: access.present(ctx, child, r)
            )

        return view

    def get(
        self, ctx: Context, app: str, entity: str, record_id: int, *, include_deleted: bool = False
    ) -> Record:
        with self.db.connect() as conn:
            _runtime, er = self._runtime(conn, app, entity)
            row = self.readable_row(conn, ctx, er, record_id, include_deleted=include_deleted)
            relation_reads.attach(conn, _runtime, er, [row], children=True, view=self._child_view(ctx, conn))
        return row

    def readable_row(
        self,
        conn: sa.Connection,
        ctx: Context,
        er: EntityRuntime,
        record_id: int,
        *,
        include_deleted: bool = False,
    ) -> Record:
        """The stored row of a record ``ctx`` may read, read on ``conn`` (a write's own
        transaction, so a check and what follows it see the same row); 404 as ``get``."""
        self.access.require(ctx, er, "read")
        row = visible_row(conn, self.access, ctx, er, record_id, "read")
        if row["deleted_at"] is not None and not include_deleted:
            raise not_found(er, [record_id])
        return row

    def list_records(
        self,
        ctx: Context,
        app: str,
        entity: str,
        *,
        filter: str | None = None,
        sort: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
        trash: bool = False,
        q: str | None = None,
        now: datetime | None = None,
    ) -> Page:
        """A page of the records ``ctx`` may read; ``q`` is keyword search
        (``engine.apps.search``) over the fields they may see, combined with ``filter``. ``now``
        fixes the filter's ``now()``/``today()`` (a plugin's own clock); else the database's."""
        limit, offset = page_bounds(limit, offset)
        with self.db.connect() as conn:
            runtime, er = self._runtime(conn, app, entity)
            self.access.require(ctx, er, "read")
            self.access.check_query(ctx, er, filter, sort)
            table = er.table
            where = [table.c.deleted_at.is_not(None) if trash else table.c.deleted_at.is_(None)]
            if filter and filter.strip():
                access = self.access
                where.append(
                    filter_clause(
                        runtime,
                        er,
                        filter,
                        target_scope=lambda t: access.row_filter(ctx, conn, t, "read"),
                        **({"now": now} if now is not None else {}),
                    )
                )
            if q:
                plan = self.access.field_plan(ctx, er)
                found = search_clause(er, q, plan.hidden | set(plan.masked), conn.dialect.name)
                if found is not None:
                    where.append(found)
            scope = self.access.row_filter(ctx, conn, er, "read")
            if scope is not None:
                where.append(scope)
            unseen = self.access.field_plan(ctx, er).hidden
            order = order_by(er, sort, unseen, collation=text_collation(conn))
            total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
            rows = conn.execute(
                sa.select(table).where(*where).order_by(*order).limit(limit).offset(offset)
            ).mappings()
            items = [dict(r) for r in rows]
            relation_reads.attach(conn, runtime, er, items, children=False)
        return Page(items, total, limit, offset)

    def history(self, ctx: Context, app: str, entity: str, record_id: int) -> list[dict[str, Any]]:
        """Changes, oldest first; the first entry is the creation, with the initial values."""
        with self.db.connect() as conn:
            _runtime, er = self._runtime(conn, app, entity)
            self.access.require(ctx, er, "read")
            entries = history.read(conn, app, entity, record_id)
            try:
                row = visible_row(conn, self.access, ctx, er, record_id, "read")
            except NotFound:
                # A purged record's history stays readable to administrators.
                if not (ctx.user and ctx.user.is_admin and entries and entries[-1].op == "purge"):
                    raise
                row = None
            names = directory.user_names(conn, [e.actor for e in entries] + [row and row["created_by"]])
        shown = self.access.present_changes
        out = []
        if row is not None and not (entries and entries[0].op == "create"):
            # Never changed: the stored values are the initial ones (see history.creation_rows).
            initial = shown(ctx, er, history.initial_changes(er, row))
            out.append(
                {"op": "create", "at": row["created_at"], "actor": row["created_by"], "changes": initial}
            )
        out += [
            {"op": e.op, "at": e.at, "actor": e.actor, "changes": shown(ctx, er, e.changes)} for e in entries
        ]
        for entry in out:
            entry["actor_name"] = names.get(entry["actor"])
        return out

    def with_titles(
        self, ctx: Context, app: str, entity: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``items`` (records as ``to_json`` shows them) with ``_titles`` for the ids they hold."""
        with self.db.connect() as conn:
            runtime, er = self._runtime(conn, app, entity)
            titles.add_titles(conn, self.access, ctx, runtime, er, items)
        return items

    def to_json(self, ctx: Context, app: str, entity: str, records: list[Record]) -> list[dict[str, Any]]:
        """Records as JSON, with the caller's field rules (hidden, masked) applied."""
        er = self._known_runtime(app).entity(entity)
        access = self.access
        return [access.present(ctx, er, er.to_json(r)) for r in records]
