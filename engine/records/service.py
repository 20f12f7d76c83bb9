"""The record service: the one way records are written and read, whoever asks.

Flow of a write: permission -> coerce and validate -> references exist -> row and history in one
transaction -> events after commit. Optimistic concurrency through ``version``: a write based on
a stale version is refused, never silently merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.apps.record_query import filter_clause, order_by, page_bounds
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.clock import utcnow
from engine.context import Context
from engine.errors import DuplicateValue, Forbidden, InvalidInput, NotFound, StaleVersion
from engine.host.events import RecordCreated, RecordDeleted, RecordEvent, RecordRestored, RecordUpdated
from engine.records import history, references, relation_reads
from engine.records.nested_writes import record_loader
from engine.records.sharing import purge_shares
from engine.records.steps.base import Write, run_after, run_before
from form_engine import Problem, RecordInvalid

if TYPE_CHECKING:
    from engine.platform import Platform

Record = dict[str, Any]


@dataclass(frozen=True)
class Page:
    items: list[Record]
    total: int
    limit: int
    offset: int


def _not_found(er: EntityRuntime, record_id: int) -> NotFound:
    return NotFound(
        f"no {er.entity.name} record with id {record_id}",
        f"{er.entity.label.zh}中没有编号为 {record_id} 的记录",
    )


def _located(exc: RecordInvalid, at: str) -> list[Problem]:
    """The form engine's problems, pointed at their field inside the request body."""
    return [
        Problem(p.code, field=p.field, pointer=f"{at}/{p.field or ''}", params=p.params) for p in exc.problems
    ]


def _invalid(problems: list[Problem]) -> InvalidInput:
    return InvalidInput(
        f"{len(problems)} value(s) are not valid", f"有 {len(problems)} 个值无效", problems=problems
    )


class RecordService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.db = platform.db

    # -- plumbing --------------------------------------------------------------------------
    def _runtime(self, conn: sa.Connection, app: str, entity: str) -> tuple[AppRuntime, EntityRuntime]:
        runtime = self.platform.runtime(conn, app)
        return runtime, runtime.entity(entity)

    @staticmethod
    def _check_references(
        conn: sa.Connection, runtime: AppRuntime, er: EntityRuntime, rows: list[Record], pointers: list[str]
    ) -> None:
        """Every lookup, user, department and owner value must name something that exists
        (row ``i`` is located at ``pointers[i]`` in the request)."""
        problems = references.reference_problems(conn, runtime, er, rows, pointers)
        references.refuse(problems + references.owner_problems(conn, rows, pointers))

    def _duplicate_error(self, app: str, entity: str, rows: list[Record]) -> DuplicateValue | None:
        """After a unique violation: which field, which existing record (new transaction)."""
        with self.db.connect() as conn:
            _runtime, er = self._runtime(conn, app, entity)
            table = er.table
            groups = [[f.name] for f in er.entity.stored_fields() if f.unique]
            groups += [list(ix.fields) for ix in er.entity.indexes if ix.unique]
            for group in groups:
                seen: dict[tuple[Any, ...], int] = {}
                for i, row in enumerate(rows):
                    key = tuple(row.get(name) for name in group)
                    if any(v is None for v in key):
                        continue
                    clash_id = conn.execute(
                        sa.select(table.c.id).where(
                            table.c.deleted_at.is_(None),
                            table.c.id != row.get("id", 0),
                            *[table.c[n] == v for n, v in zip(group, key, strict=True)],
                        )
                    ).scalar()
                    if clash_id is None and key in seen:
                        other = seen[key]
                        return DuplicateValue(
                            f"items {other} and {i} both have {', '.join(group)} = "
                            f"{', '.join(map(str, key))}, which must be unique",
                            f"第 {other} 和第 {i} 条的 {', '.join(group)} 重复",
                            details={"fields": group, "items": [other, i]},
                        )
                    seen[key] = i
                    if clash_id is not None:
                        labels = [er.entity.field(n).label for n in group]
                        return DuplicateValue(
                            f"{' + '.join(lb.en for lb in labels)} {', '.join(map(str, key))} is "
                            f"already used by {entity} record {clash_id}",
                            f"{' + '.join(lb.zh for lb in labels)} {', '.join(map(str, key))} 已被记录 "
                            f"{clash_id} 使用",
                            details={"fields": group, "existing_id": clash_id},
                        )
        return None

    @staticmethod
    def _insert(conn: sa.Connection, er: EntityRuntime, rows: list[Record]) -> list[int]:
        """Insert rows and return their ids in order.

        SQLite cannot batch ``INSERT ... RETURNING`` with a guaranteed order, but it has a single
        writer: inside our transaction the new rowids are consecutive after the current maximum.
        """
        if conn.dialect.name == "postgresql":
            if len(rows) == 1:
                return list(conn.execute(er.insert_returning_id, rows).scalars())
            # Ids drawn from the table's sequence up front keep the insert a plain batched
            # executemany; RETURNING in parameter order would add a sort sentinel per batch.
            ids = (
                conn.execute(
                    sa.text(
                        "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
                    ),
                    {"table": er.table.name, "n": len(rows)},
                )
                .scalars()
                .all()
            )
            for row, record_id in zip(rows, ids, strict=True):
                row["id"] = record_id
            conn.execute(er.table.insert(), rows)
            return list(ids)
        if conn.dialect.name != "sqlite":
            return list(conn.execute(er.insert_returning_id, rows).scalars())
        if len(rows) == 1:
            return [conn.execute(er.table.insert(), rows[0]).inserted_primary_key[0]]
        conn.execute(er.table.insert(), rows)
        last = conn.execute(sa.select(sa.func.max(er.table.c.id))).scalar_one()
        return list(range(last - len(rows) + 1, last + 1))

    def _publish(self, events: Iterable[RecordEvent]) -> None:
        for event in events:
            self.platform.publish(event)

    # -- writes ----------------------------------------------------------------------------
    def create(
        self,
        ctx: Context,
        app: str,
        entity: str,
        data: Mapping[str, Any],
        *,
        form: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Record:
        """Create one record; ``form`` names the form the values come from (its conditions apply)."""
        return self.bulk_create(ctx, app, entity, [data], form=form, options=options, _single=True)[0]

    def bulk_create(
        self,
        ctx: Context,
        app: str,
        entity: str,
        items: list[Mapping[str, Any]],
        *,
        form: str | None = None,
        options: Mapping[str, Any] | None = None,
        _single: bool = False,
    ) -> list[Record]:
        """Create many records in one transaction: all of them, or none and every problem listed."""
        prefix = "" if _single else "/items"
        try:
            with self.db.begin() as conn:
                runtime, er = self._runtime(conn, app, entity)
                self.platform.access.require(ctx, er, "create")
                now = utcnow()
                actor = ctx.user_id
                rows, relations, pointers, problems = [], [], [], []
                validate = er.validator.validate
                loader = record_loader(conn, runtime, er)
                for i, data in enumerate(items):
                    if not isinstance(data, Mapping):
                        problems.append(
                            Problem(
                                "not_an_object",
                                pointer=f"{prefix}/{i}",
                                params={
                                    "zh": "每条记录应为 JSON 对象",
                                    "en": "each record must be a JSON object",
                                },
                            )
                        )
                        continue
                    owner = data.get("owner", actor)
                    values = {k: v for k, v in data.items() if k != "owner"}
                    self.platform.access.check_write(ctx, er, data, "create")
                    at = prefix if _single else f"{prefix}/{i}"
                    try:
                        row = validate(values, form=form, locale=ctx.locale, now=now, loader=loader)
                    except RecordInvalid as exc:
                        problems.extend(_located(exc, at))
                        continue
                    relations.append(getattr(row, "relations", None) or {})
                    pointers.append(at)
                    row = dict(row)
                    row["created_at"] = row["updated_at"] = now
                    row["created_by"] = row["updated_by"] = actor
                    row["owner"] = owner
                    row["version"] = 1
                    rows.append(row)
                if problems:
                    raise _invalid(problems)
                self._check_references(conn, runtime, er, rows, pointers)
                write = Write(
                    self.platform, conn, ctx, runtime, er, "create", now,
                    rows=rows, old=[None] * len(rows), relations=relations,
                    options=options or {}, pointers=pointers,
                )  # fmt: skip
                run_before(self.platform.write_steps, write)
                write.ids = self._insert(conn, er, rows)
                for row, record_id in zip(rows, write.ids, strict=True):
                    row["id"] = record_id
                    row["deleted_at"] = None
                run_after(self.platform.write_steps, write)
                relation_reads.refresh(conn, runtime, er, rows, self._child_view(ctx, conn))
        except sa.exc.IntegrityError:
            error = self._duplicate_error(app, entity, [dict(i) for i in items if isinstance(i, Mapping)])
            if error is None:
                raise
            raise error from None
        columns = er.columns
        records = [{c: r.get(c) for c in columns} for r in rows]
        for i, matches in write.notes.get("duplicates", {}).items():
            records[i]["_duplicates"] = matches
        self._publish(RecordCreated(app, entity, r["id"], r, ctx) for r in records)
        return records

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
        options: Mapping[str, Any] | None = None,
    ) -> Record:
        """Change some fields. With ``version``, refuse if the record moved on since then."""
        try:
            with self.db.begin() as conn:
                runtime, er = self._runtime(conn, app, entity)
                self.platform.access.require(ctx, er, "update")
                old = self._visible_row(ctx, conn, er, record_id, "update", lock=True)
                if old["deleted_at"] is not None:
                    raise _not_found(er, record_id)
                if version is not None and version != old["version"]:
                    raise self._stale(er, record_id, version, old["version"])
                owner = data.get("owner") if "owner" in data else None
                values = {k: v for k, v in data.items() if k != "owner"}
                self.platform.access.check_write(ctx, er, data, "update")
                now = utcnow()
                try:
                    validated = er.validator.validate(
                        values,
                        partial=True,
                        old=old,
                        form=form,
                        locale=ctx.locale,
                        now=now,
                        loader=record_loader(conn, runtime, er),
                    )
                except RecordInvalid as exc:
                    raise _invalid(_located(exc, "")) from None
                changed = dict(validated)
                relations = getattr(validated, "relations", None) or {}
                if owner is not None:
                    changed["owner"] = owner
                self._check_references(conn, runtime, er, [changed], [""])
                write = Write(
                    self.platform, conn, ctx, runtime, er, "update", now,
                    rows=[changed], old=[old], relations=[relations],
                    options=options or {}, pointers=[""], ids=[record_id],
                )  # fmt: skip
                run_before(self.platform.write_steps, write)
                changes = {k: (old.get(k), v) for k, v in changed.items() if old.get(k) != v}
                if not changes and not relations:
                    return old
                new_values = {k: v for k, (_o, v) in changes.items()}
                new_values |= {"updated_at": now, "updated_by": ctx.user_id, "version": old["version"] + 1}
                result = conn.execute(
                    er.table.update()
                    .where(er.table.c.id == record_id, er.table.c.version == old["version"])
                    .values(new_values)
                )
                if result.rowcount != 1:
                    raise self._stale(er, record_id, old["version"], None)
                run_after(self.platform.write_steps, write)
                history.write(
                    conn,
                    [
                        history.history_row(
                            app,
                            entity,
                            record_id,
                            "update",
                            now,
                            ctx.user_id,
                            self._history_changes(er, changes),
                        )
                    ],
                )
                record = {**old, **new_values}
                relation_reads.refresh(conn, runtime, er, [record], self._child_view(ctx, conn))
                if "duplicates" in write.notes:
                    record["_duplicates"] = write.notes["duplicates"][0]
        except sa.exc.IntegrityError:
            error = self._duplicate_error(app, entity, [{**dict(data), "id": record_id}])
            if error is None:
                raise
            raise error from None
        self._publish([RecordUpdated(app, entity, record_id, record, ctx, changes=changes)])
        return record

    def delete(
        self, ctx: Context, app: str, entity: str, record_id: int, *, version: int | None = None
    ) -> Record:
        """Move a record to the trash; ``restore`` brings it back."""
        return self._set_deleted(ctx, app, entity, record_id, deleted=True, version=version)

    def restore(self, ctx: Context, app: str, entity: str, record_id: int) -> Record:
        return self._set_deleted(ctx, app, entity, record_id, deleted=False, version=None)

    def _set_deleted(
        self, ctx: Context, app: str, entity: str, record_id: int, *, deleted: bool, version: int | None
    ) -> Record:
        try:
            with self.db.begin() as conn:
                _runtime, er = self._runtime(conn, app, entity)
                self.platform.access.require(ctx, er, "delete")
                old = self._visible_row(ctx, conn, er, record_id, "delete", lock=True)
                if (old["deleted_at"] is not None) == deleted:
                    if deleted:
                        raise _not_found(er, record_id)
                    return old
                if version is not None and version != old["version"]:
                    raise self._stale(er, record_id, version, old["version"])
                now = utcnow()
                values = {
                    "deleted_at": now if deleted else None,
                    "updated_at": now,
                    "updated_by": ctx.user_id,
                    "version": old["version"] + 1,
                }
                write = Write(
                    self.platform, conn, ctx, _runtime, er, "delete" if deleted else "restore", now,
                    rows=[{**old, **values}], old=[old], relations=[{}], pointers=[""], ids=[record_id],
                )  # fmt: skip
                run_before(self.platform.write_steps, write)
                conn.execute(er.table.update().where(er.table.c.id == record_id).values(values))
                run_after(self.platform.write_steps, write)
                history.write(
                    conn,
                    [
                        history.history_row(
                            app, entity, record_id, "delete" if deleted else "restore", now, ctx.user_id, None
                        )
                    ],
                )
                record = {**old, **values}
        except sa.exc.IntegrityError:
            # Restoring a record whose unique value was taken meanwhile.
            error = self._duplicate_error(app, entity, [{**old, "id": record_id}])
            if error is None:
                raise
            raise error from None
        event_type = RecordDeleted if deleted else RecordRestored
        self._publish([event_type(app, entity, record_id, record, ctx)])
        return record

    def purge(self, ctx: Context, app: str, entity: str, record_id: int) -> None:
        """Delete a trashed record for good, with its history."""
        with self.db.begin() as conn:
            _runtime, er = self._runtime(conn, app, entity)
            self.platform.access.require(ctx, er, "delete")
            old = self._visible_row(ctx, conn, er, record_id, "delete")
            if old["deleted_at"] is None:
                raise InvalidInput(
                    "only a record in the trash can be purged; delete it first",
                    "只能彻底删除回收站中的记录，请先删除",
                )
            self._purge_rows(conn, _runtime, er, [record_id])

    def _purge_rows(
        self, conn: sa.Connection, runtime: AppRuntime, er: EntityRuntime, ids: list[int]
    ) -> None:
        """Delete rows for good with everything that hangs on them: history, shares, links
        (either side) and their sub-table children, so a reused id inherits nothing."""
        for f in er.fields_of_type("sub_table"):
            child = runtime.entities[f.config.entity]
            link = child.table.c[f.config.link_field]
            child_ids = list(conn.execute(sa.select(child.table.c.id).where(link.in_(ids))).scalars())
            if child_ids:
                self._purge_rows(conn, runtime, child, child_ids)
        for table in er.link_tables.values():
            conn.execute(table.delete().where(table.c.source_id.in_(ids)))
        for other in runtime.entities.values():
            for name, table in other.link_tables.items():
                if other.entity.field(name).config.entity == er.entity.name:
                    conn.execute(table.delete().where(table.c.target_id.in_(ids)))
        conn.execute(er.table.delete().where(er.table.c.id.in_(ids)))
        for record_id in ids:
            history.purge(conn, er.app, er.entity.name, record_id)
            purge_shares(conn, er.app, er.entity.name, record_id)

    @staticmethod
    def _stale(er: EntityRuntime, record_id: int, given: int, current: int | None) -> StaleVersion:
        now = f" (it is now at version {current})" if current is not None else ""
        return StaleVersion(
            f"{er.entity.name} record {record_id} was changed since version {given}{now}; "
            "reload it and apply your change again",
            f"记录 {record_id} 在版本 {given} 之后已被修改，请刷新后重新修改",
            details={"id": record_id, "your_version": given, "current_version": current},
        )

    @staticmethod
    def _history_changes(er: EntityRuntime, changes: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
        """``{field: [old, new]}`` in JSON form, as the history table keeps it."""
        return {
            name: [er.value_json(name, old), er.value_json(name, new)] for name, (old, new) in changes.items()
        }

    # -- reads -----------------------------------------------------------------------------
    def _visible_row(
        self,
        ctx: Context,
        conn: sa.Connection,
        er: EntityRuntime,
        record_id: int,
        op: Any,
        *,
        lock: bool = False,
    ) -> Record:
        """The stored row, if ``ctx`` may ``op`` it; otherwise 404 (its existence is not revealed)."""
        query = sa.select(er.table).where(er.table.c.id == record_id)
        scope = self.platform.access.row_filter(ctx, conn, er, op)
        if scope is not None:
            query = query.where(scope)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).mappings().first()
        if row is None:
            raise _not_found(er, record_id)
        return dict(row)

    def _child_view(self, ctx: Context, conn: sa.Connection) -> relation_reads.ViewOf:
        """Sub-table rows shown inside a parent obey the child entity's own read rules."""
        access = self.platform.access

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
            self.platform.access.require(ctx, er, "read")
            row = self._visible_row(ctx, conn, er, record_id, "read")
            if row["deleted_at"] is not None and not include_deleted:
                raise _not_found(er, record_id)
            relation_reads.attach(conn, _runtime, er, [row], children=True, view=self._child_view(ctx, conn))
        return row

    def list(
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
    ) -> Page:
        limit, offset = page_bounds(limit, offset)
        with self.db.connect() as conn:
            runtime, er = self._runtime(conn, app, entity)
            self.platform.access.require(ctx, er, "read")
            self.platform.access.check_query(ctx, er, filter, sort)
            table = er.table
            where = [table.c.deleted_at.is_not(None) if trash else table.c.deleted_at.is_(None)]
            if filter and filter.strip():
                access = self.platform.access
                where.append(
                    filter_clause(
                        runtime, er, filter, target_scope=lambda t: access.row_filter(ctx, conn, t, "read")
                    )
                )
            scope = self.platform.access.row_filter(ctx, conn, er, "read")
            if scope is not None:
                where.append(scope)
            order = order_by(er, sort)
            total = conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
            rows = conn.execute(
                sa.select(table).where(*where).order_by(*order).limit(limit).offset(offset)
            ).mappings()
            items = [dict(r) for r in rows]
            relation_reads.attach(conn, runtime, er, items, children=False)
        return Page(items, total, limit, offset)

    def history(self, ctx: Context, app: str, entity: str, record_id: int) -> list[dict[str, Any]]:
        """Changes, oldest first; the first entry is the creation (from the row itself)."""
        with self.db.connect() as conn:
            _runtime, er = self._runtime(conn, app, entity)
            self.platform.access.require(ctx, er, "read")
            row = self._visible_row(ctx, conn, er, record_id, "read")
            entries = history.read(conn, app, entity, record_id)
        out = [{"op": "create", "at": row["created_at"], "actor": row["created_by"], "changes": None}]
        shown = self.platform.access.present_changes
        out += [
            {"op": e.op, "at": e.at, "actor": e.actor, "changes": shown(ctx, er, e.changes)} for e in entries
        ]
        return out

    def to_json(self, ctx: Context, app: str, entity: str, records: list[Record]) -> list[dict[str, Any]]:
        """Records as JSON, with the caller's field rules (hidden, masked) applied."""
        er = self.platform.known_runtime(app).entity(entity)
        access = self.platform.access
        return [access.present(ctx, er, er.to_json(r)) for r in records]
