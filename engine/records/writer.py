"""The write unit: every record change, whoever asks for it, in one transaction.

An API create, a sub-table row inside its parent, a merge, an ownership transfer, an import
batch or a plugin's action all call the same five operations of ``WriteUnit``: ``create``,
``update``, ``delete``, ``restore`` and ``purge``. Each one runs, for a batch of rows of one
entity: access (entity permission, row scope, field write rules) -> coerce and validate (with
the caller's scoped view of related records) -> references -> write steps ``before`` -> SQL ->
write steps ``after`` -> history, and queues one event per changed row. ``Writer.run`` opens the
transaction, lets plugins act before it commits (``tangram_before_commit``) and publishes the
queued events only after it did; a failed write publishes nothing and changes nothing.

Changes that follow from a change the caller was allowed to make (the children of a trashed
parent, records whose lookup a merge re-points) go through ``cascade_*``: the same steps,
history and events, with the entity permission checked but not the row scope, since the caller
never chose those rows.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa

import rule_engine
from engine.access import AccessPolicy, Operation
from engine.apps.runtime import AppRuntime, EntityRuntime
from engine.clock import utcnow
from engine.context import Context
from engine.errors import Conflict, Forbidden, InvalidInput, StaleVersion
from engine.identity import audit
from engine.messages import did_you_mean, problem
from engine.records import after_commit, blind_conflicts, history, purge, references
from engine.records.blind_conflicts import BlindConflict
from engine.records.events import (
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordRestored,
    RecordUpdated,
)
from engine.records.file_store import FileStore
from engine.records.loader import (
    Loader,
    not_found,
    readable_scope,
    record_loader,
    related_reader,
    scoped_rows,
)
from engine.records.steps.base import Batch, WriteOp, WriteStep
from engine.records.unique import duplicate_value_error
from form_engine import Problem, RecordInvalid

Record = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class WriteOptions:
    """What the caller asks of a write beyond its values."""

    #: the form the values come from (its conditions apply); top-level rows only
    form: str | None = None
    #: save although a duplicate rule with policy ``warn`` matches
    confirm_duplicates: bool = False


def _located(problems: Iterable[Problem], at: str) -> list[Problem]:
    """Problems pointed at their place in the request body (line and column kept)."""
    return [
        replace(p, pointer=f"{at}{p.pointer}" if p.pointer else f"{at}/{p.field or ''}") for p in problems
    ]


def _note_ignored(records: list[Record], ignored: Sequence[tuple[str, ...]]) -> list[Record]:
    """Fields whose values a write dropped (hidden by a condition, or not on the form used)
    are named in the record it answers, ``_ignored``, so a client is not left guessing."""
    for record, names in zip(records, ignored, strict=True):
        if names:
            record["_ignored"] = list(names)
    return records


def invalid(problems: list[Problem]) -> InvalidInput:
    return InvalidInput("values_invalid", count=len(problems), problems=problems)


def _not_an_object(at: str) -> Problem:
    return problem("not_an_object", pointer=at)


def stale(er: EntityRuntime, record_id: int, given: int, current: int | None) -> StaleVersion:
    details = {"id": record_id, "your_version": given, "current_version": current}
    if current is None:
        return StaleVersion(
            "stale_version", entity=er.entity.label, id=record_id, given=given, details=details
        )
    return StaleVersion(
        "stale_version.current",
        entity=er.entity.label,
        id=record_id,
        given=given,
        current=current,
        details=details,
    )


def insert_rows(conn: sa.Connection, er: EntityRuntime, rows: list[Record]) -> list[int]:
    """Insert rows and return their ids in order.

    SQLite cannot batch ``INSERT ... RETURNING`` with a guaranteed order, but it has a single
    writer: inside our ``BEGIN IMMEDIATE`` transaction the new rowids are consecutive after the
    current maximum. PostgreSQL draws the ids from the table's sequence up front, which keeps
    the insert a plain batched executemany. Rows that omit a column store NULL there (defaults
    were applied by validation), so a batch need not carry the same keys in every row.
    """
    keys = set().union(*rows)
    for row in rows:
        if len(row) != len(keys):
            for key in keys - row.keys():
                row[key] = None
    if len(rows) == 1:
        if conn.dialect.name == "sqlite":
            primary_key = conn.execute(er.table.insert(), rows[0]).inserted_primary_key
            if primary_key is None:  # pragma: no cover - an INSERT always has one
                raise RuntimeError(f"no id for the new {er.entity.name} row")
            return [primary_key[0]]
        return list(conn.execute(er.insert_returning_id, rows).scalars())
    if conn.dialect.name == "postgresql":
        ids = list(
            conn.execute(
                sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": er.table.name, "n": len(rows)},
            ).scalars()
        )
        for row, record_id in zip(rows, ids, strict=True):
            row["id"] = record_id
        conn.execute(er.table.insert(), rows)
        return ids
    conn.execute(er.table.insert(), rows)  # SQLite, the other supported database
    last = conn.execute(sa.select(sa.func.max(er.table.c.id))).scalar_one()
    return list(range(last - len(rows) + 1, last + 1))


class WriteUnit:
    """One transaction of record changes; see the module docstring for what each call runs."""

    def __init__(
        self,
        conn: sa.Connection,
        ctx: Context,
        runtime: AppRuntime,
        access: AccessPolicy,
        steps: Sequence[WriteStep],
        files: FileStore,
        options: WriteOptions | None = None,
        now: datetime | None = None,
    ) -> None:
        self.conn = conn
        self.ctx = ctx
        self.runtime = runtime
        self.access = access
        self.steps = steps
        self.files = files
        self.options = options or WriteOptions()
        self.now = now or utcnow()
        #: events of every changed row, published after the commit
        self.pending: list[RecordEvent] = []
        #: the rows of the last statement, to explain a unique violation after the rollback
        self.last_rows: tuple[EntityRuntime, list[Record]] | None = None
        self._loaders: dict[str, Loader] = {}
        self._related: rule_engine.Related | None = None
        self._scopes: dict[str, Any] = {}

    # -- what the unit reads as the caller -------------------------------------------------------
    def loader(self, er: EntityRuntime) -> Loader:
        """Records reached through ``er``'s lookups, as the caller may read them."""
        name = er.entity.name
        if name not in self._loaders:
            self._loaders[name] = record_loader(
                self.conn, self.runtime, er, self.ctx, self.access, scope_of=self.readable
            )
        return self._loaders[name]

    def related(self, er: EntityRuntime) -> rule_engine.Related:
        """Records pointing at a record of ``er`` (what a rule's ``any``/``none``/``count``
        range over in Python), live and as the caller may read them, like ``loader``. The
        relation a rule names says which entity to read, so one reader serves every ``er``."""
        if self._related is None:
            self._related = related_reader(self.conn, self.runtime, self.ctx, self.access, self.readable)
        return self._related

    def readable(self, target: EntityRuntime) -> Any:
        """The caller's read scope on ``target`` (None: every row), built once per entity for
        the unit: a batch of 10,000 rows with lookups asks it for every row."""
        name = target.entity.name
        if name not in self._scopes:
            self._scopes[name] = readable_scope(self.access, self.ctx, self.conn, target)
        return self._scopes[name]

    def check_write(self, er: EntityRuntime, data: Mapping[str, Any], op: Operation, at: str = "") -> None:
        """Refuse values of fields the caller may not write (403, problems located at ``at``)."""
        try:
            self.access.check_write(self.ctx, er, data, op)
        except Forbidden as exc:
            exc.problems = [replace(p, pointer=f"{at}{p.pointer or ''}") for p in exc.problems]
            raise

    def _hinted(self, er: EntityRuntime, problems: list[Problem]) -> list[Problem]:
        """Problems whose "did you mean" names no field hidden from the caller."""
        hidden = self.access.field_plan(self.ctx, er).hidden
        if not hidden:
            return problems
        names = [n for n in er.entity.field_names if n not in hidden]
        out = []
        for p in problems:
            if p.code == "unknown_field" and p.field is not None:
                close = difflib.get_close_matches(str(p.field), names, n=1)
                p = replace(
                    p, params={**p.params, "hint": did_you_mean(close[0] if close else None, aside=True)}
                )
            out.append(p)
        return out

    def _check_references(self, er: EntityRuntime, rows: list[Record], pointers: list[str]) -> None:
        """Lookups must name records the caller can read, users and departments must exist."""
        problems = references.reference_problems(
            self.conn, self.runtime, er, rows, pointers, scope_of=self.readable
        )
        references.refuse(problems + references.owner_problems(self.conn, rows, pointers, self.ctx.user_id))

    # -- create ------------------------------------------------------------------------------------
    def create(
        self,
        er: EntityRuntime,
        items: Sequence[Any],
        *,
        pointers: Sequence[str] | None = None,
        assigned: Sequence[Mapping[str, Any]] | None = None,
        form: str | None = None,
    ) -> list[Record]:
        """Create records from client values (``items``); ``assigned`` values are set by the
        kernel itself (a child's link to its parent) and skip the field write rules."""
        self.access.require(self.ctx, er, "create")
        pointers = list(pointers) if pointers is not None else [f"/{i}" for i in range(len(items))]
        actor = self.ctx.user_id
        validate = er.validator.validate
        loader = self.loader(er)
        rows: list[Record] = []
        relations: list[Mapping[str, Any]] = []
        located: list[str] = []
        ignored: list[tuple[str, ...]] = []
        problems: list[Problem] = []
        for i, (data, at) in enumerate(zip(items, pointers, strict=True)):
            if not isinstance(data, Mapping):
                problems.append(_not_an_object(at))
                continue
            self.check_write(er, data, "create", at)
            owner = actor if data.get("owner") is None else data["owner"]  # null: the creator
            values = {k: v for k, v in data.items() if k != "owner"}
            if assigned is not None:
                values.update(assigned[i])
            try:
                validated = validate(values, form=form, locale=self.ctx.locale, now=self.now, loader=loader)
            except RecordInvalid as exc:
                problems.extend(self._hinted(er, _located(exc.problems, at)))
                continue
            relations.append(validated.relations)
            located.append(at)
            ignored.append(validated.dropped)
            row = dict(validated)
            row.update(created_at=self.now, updated_at=self.now, created_by=actor, updated_by=actor)
            row["owner"] = owner
            row["version"] = 1
            rows.append(row)
        if problems:
            raise invalid(problems)
        if not rows:
            return []
        # The kernel's own values (a child's link to the parent just written) need no check.
        kernel_set = {key for values in assigned or () for key in values}
        checked = [{k: v for k, v in r.items() if k not in kernel_set} for r in rows] if kernel_set else rows
        self._check_references(er, checked, located)
        batch = Batch(self, er, "create", rows, [None] * len(rows), relations, located)
        self._before(batch)
        self.last_rows = (er, rows)
        batch.ids = insert_rows(self.conn, er, rows)
        for row, record_id in zip(rows, batch.ids, strict=True):
            row["id"] = record_id
            row["deleted_at"] = None
        columns = er.columns
        records = [{c: r.get(c) for c in columns} for r in rows]
        for i, matches in batch.duplicates.items():
            records[i]["_duplicates"] = matches
        _note_ignored(records, ignored)
        # Queued before the steps write children, so a parent's event comes before theirs.
        self.pending.extend(
            RecordCreated(er.app, er.entity.name, i, r, self.ctx)
            for i, r in zip(batch.ids, records, strict=True)
        )
        self._after(batch)
        return records

    # -- update ------------------------------------------------------------------------------------
    def update(
        self,
        er: EntityRuntime,
        items: Sequence[tuple[int, Mapping[str, Any]]],
        *,
        pointers: Sequence[str] | None = None,
        versions: Sequence[int | None] | None = None,
        form: str | None = None,
        history_op: str = "update",
        history_extra: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        """Change the given fields of existing records (``(id, values)`` pairs). A record
        outside the caller's update scope is not found; with ``versions``, a record that moved
        on since the version given is refused."""
        self.access.require(self.ctx, er, "update")
        pointers = list(pointers) if pointers is not None else ["" for _ in items]
        olds = scoped_rows(self.conn, self.access, self.ctx, er, [i for i, _d in items], "update", lock=True)
        missing = {i for i, _d in items if i not in olds or olds[i]["deleted_at"] is not None}
        if missing:
            raise not_found(er, missing)
        for k, (record_id, _data) in enumerate(items):
            given = versions[k] if versions is not None else None
            if given is not None and given != olds[record_id]["version"]:
                raise stale(er, record_id, given, olds[record_id]["version"])
        validate = er.validator.validate
        loader = self.loader(er)
        changed: list[Record] = []
        relations: list[Mapping[str, Any]] = []
        ignored: list[tuple[str, ...]] = []
        problems: list[Problem] = []
        for (record_id, data), at in zip(items, pointers, strict=True):
            self.check_write(er, data, "update", at)
            old = olds[record_id]
            values = {k: v for k, v in data.items() if k != "owner"}
            owner = data.get("owner")
            # The owner is no form field, but formulas and rules may read the new one.
            seen = old if owner is None else {**old, "owner": owner}
            try:
                validated = validate(
                    values,
                    partial=True,
                    old=seen,
                    form=form,
                    locale=self.ctx.locale,
                    now=self.now,
                    loader=loader,
                )
            except RecordInvalid as exc:
                problems.extend(self._hinted(er, _located(exc.problems, at)))
                continue
            row = dict(validated)
            if owner is not None:
                row["owner"] = owner
            changed.append(row)
            relations.append(validated.relations)
            ignored.append(validated.dropped)
        if problems:
            raise invalid(problems)
        self._check_references(er, changed, pointers)
        results = self._apply_updates(
            er,
            [olds[i] for i, _d in items],
            changed,
            relations,
            pointers,
            history_op=history_op,
            history_extra=history_extra,
        )
        return _note_ignored([dict(r) for r in results], ignored)

    def cascade_update(
        self,
        er: EntityRuntime,
        olds: Sequence[Record],
        values: Sequence[Mapping[str, Any]],
        *,
        history_op: str,
    ) -> list[Record]:
        """Apply kernel-made values to stored rows (a merge re-pointing a lookup to the record
        that survives it): no permission of its own, since the rows follow a change the caller
        was allowed to make. Derived fields are recomputed where the stored row still
        validates; otherwise only the given values change, as stored data a rule now refuses
        must not block the change."""
        changed: list[Record] = []
        loader = self.loader(er)
        for old, new in zip(olds, values, strict=True):
            try:
                row = dict(
                    er.validator.validate(dict(new), partial=True, old=old, now=self.now, loader=loader)
                )
            except RecordInvalid:
                row = dict(new)
            changed.append(row)
        return self._apply_updates(
            er, list(olds), changed, [{} for _ in olds], ["" for _ in olds], history_op=history_op
        )

    def _apply_updates(
        self,
        er: EntityRuntime,
        olds: list[Record],
        changed: list[Record],
        relations: list[Mapping[str, Any]],
        pointers: list[str],
        *,
        history_op: str,
        history_extra: Mapping[str, Any] | None = None,
    ) -> list[Record]:
        batch = Batch(
            self, er, "update", changed, list(olds), relations, pointers, ids=[o["id"] for o in olds]
        )
        self._before(batch)
        hidden = er.hidden_columns
        results: list[Record] = []
        kept: list[int] = []
        history_rows: list[dict[str, Any]] = []
        written: list[Record] = []
        table = er.table
        for k, (old, row) in enumerate(zip(olds, changed, strict=True)):
            changes = {name: (old.get(name), v) for name, v in row.items() if old.get(name) != v}
            if not changes and not relations[k] and history_op == "update":
                results.append(old)
                continue
            new_values = {name: v for name, (_o, v) in changes.items()}
            new_values |= {
                "updated_at": self.now,
                "updated_by": self.ctx.user_id,
                "version": old["version"] + 1,
            }
            # Every row written so far: a clash between two rows of the batch is explained too.
            written.append({**old, **new_values})
            self.last_rows = (er, written)
            result = self.conn.execute(
                table.update()
                .where(table.c.id == old["id"], table.c.version == old["version"])
                .values(new_values)
            )
            if result.rowcount != 1:
                raise stale(er, old["id"], old["version"], None)
            shown = {name: pair for name, pair in changes.items() if name not in hidden}
            record = {**old, **new_values}
            if k in batch.duplicates:
                record["_duplicates"] = batch.duplicates[k]
            results.append(record)
            kept.append(k)
            history_rows += history.creation_rows(er, [old])
            history_rows.append(
                history.history_row(
                    er.app, er.entity.name, old["id"], history_op, self.now, self.ctx.user_id,
                    {**history.changes_json(er, shown), **(history_extra or {})},
                )
            )  # fmt: skip
            self.pending.append(
                RecordUpdated(er.app, er.entity.name, old["id"], record, self.ctx, changes=shown)
            )
        if kept:
            self._after(
                Batch(
                    self,
                    er,
                    "update",
                    [changed[k] for k in kept],
                    [olds[k] for k in kept],
                    [relations[k] for k in kept],
                    [pointers[k] for k in kept],
                    ids=[olds[k]["id"] for k in kept],
                )
            )
        history.write(self.conn, history_rows)
        return results

    # -- trash and restore ---------------------------------------------------------------------------
    def delete(self, er: EntityRuntime, ids: Sequence[int], *, version: int | None = None) -> list[Record]:
        """Move records to the trash (404 for one outside the caller's delete scope)."""
        return self._set_deleted(er, ids, deleted=True, version=version)

    def restore(self, er: EntityRuntime, ids: Sequence[int]) -> list[Record]:
        """Bring trashed records back; a live one among them is a conflict (409): a client
        that thinks it is in the trash has a stale view of it."""
        return self._set_deleted(er, ids, deleted=False, version=None)

    def _set_deleted(
        self, er: EntityRuntime, ids: Sequence[int], *, deleted: bool, version: int | None
    ) -> list[Record]:
        self.access.require(self.ctx, er, "delete")
        olds = scoped_rows(self.conn, self.access, self.ctx, er, ids, "delete", lock=True)
        missing = {i for i in ids if i not in olds or (deleted and olds[i]["deleted_at"] is not None)}
        if missing:
            raise not_found(er, missing)
        live = [] if deleted else sorted(i for i in ids if olds[i]["deleted_at"] is None)
        if live:
            raise Conflict("records_not_in_trash", ids=", ".join(map(str, live)), details={"ids": live})
        if version is not None:
            for record_id in ids:
                if olds[record_id]["version"] != version:
                    raise stale(er, record_id, version, olds[record_id]["version"])
        moving = [olds[i] for i in ids if (olds[i]["deleted_at"] is None) == deleted]
        done = {r["id"]: r for r in self._set_deleted_rows(er, moving, deleted=deleted)}
        return [done.get(i, olds[i]) for i in ids]

    def cascade_set_deleted(
        self, er: EntityRuntime, olds: Sequence[Record], *, deleted: bool, history_op: str | None = None
    ) -> list[Record]:
        """Trash (or restore) rows that go with another record (a parent's children, the
        record merged away); the entity permission applies, the rows are the kernel's choice."""
        self.access.require(self.ctx, er, "delete")
        return self._set_deleted_rows(er, list(olds), deleted=deleted, history_op=history_op)

    def _set_deleted_rows(
        self, er: EntityRuntime, olds: list[Record], *, deleted: bool, history_op: str | None = None
    ) -> list[Record]:
        if not olds:
            return []
        op: WriteOp = "delete" if deleted else "restore"
        values = {
            "deleted_at": self.now if deleted else None,
            "updated_at": self.now,
            "updated_by": self.ctx.user_id,
        }
        rows = [{**old, **values, "version": old["version"] + 1} for old in olds]
        ids = [old["id"] for old in olds]
        batch = Batch(self, er, op, rows, list(olds), [{} for _ in olds], ["" for _ in olds], ids=ids)
        self._before(batch)
        self.last_rows = (er, rows)
        table = er.table
        for start in range(0, len(ids), 500):
            self.conn.execute(
                table.update()
                .where(table.c.id.in_(ids[start : start + 500]))
                .values({**values, "version": table.c.version + 1})
            )
        self._after(batch)
        history.write(
            self.conn,
            history.creation_rows(er, olds)
            + [
                history.history_row(
                    er.app, er.entity.name, i, history_op or op, self.now, self.ctx.user_id, None
                )
                for i in ids
            ],
        )
        event = RecordDeleted if deleted else RecordRestored
        self.pending.extend(event(er.app, er.entity.name, r["id"], r, self.ctx) for r in rows)
        return rows

    # -- purge -------------------------------------------------------------------------------------
    def purge(self, er: EntityRuntime, ids: Sequence[int]) -> None:
        """Delete trashed records for good, with their children, links and shares; refused
        while other records still point at them (see ``engine.records.purge``)."""
        self.access.require(self.ctx, er, "delete")
        rows = scoped_rows(self.conn, self.access, self.ctx, er, ids, "delete", lock=True)
        missing = set(ids) - set(rows)
        if missing:
            raise not_found(er, missing)
        if any(r["deleted_at"] is None for r in rows.values()):
            raise InvalidInput("purge_needs_trash")
        going = purge.with_children(self, er, list(rows.values()))
        purge.refuse_if_referenced(purge.referrers(self.conn, self.runtime, going), er)
        purge.purge_rows(self, going)
        details = {"ids": sorted(rows)}
        audit.record(
            self.conn, "records_purged", ctx=self.ctx, app=er.app, target=er.entity.name, details=details
        )

    # -- steps -------------------------------------------------------------------------------------
    def _before(self, batch: Batch) -> None:
        for step in self.steps:
            step.before(batch)

    def _after(self, batch: Batch) -> None:
        for step in self.steps:
            step.after(batch)


class Writer:
    """Runs work on a write unit in one transaction, then publishes the unit's events."""

    def __init__(
        self,
        db: sa.Engine,
        runtime_of: Callable[[sa.Connection, str], AppRuntime],
        access: AccessPolicy,
        steps: Callable[[], Sequence[WriteStep]],
        files: FileStore,
        before_commit: Callable[[WriteUnit], None],
        publish: Callable[[RecordEvent], None],
    ) -> None:
        self.db = db
        self.runtime_of = runtime_of
        self.access = access
        self.steps = steps
        self.files = files
        self.before_commit = before_commit
        self.publish = publish

    def run(
        self,
        ctx: Context,
        app: str,
        work: Callable[[WriteUnit], T],
        *,
        options: WriteOptions = WriteOptions(),
        conn: sa.Connection | None = None,
    ) -> T:
        """``work(unit)`` inside one transaction; its events are published once it committed.

        With ``conn``, the unit joins that open transaction instead of beginning one (inside a
        savepoint, so a refused write leaves the outer transaction usable and changes nothing),
        and its events wait for the outer transaction: they are published after it commits and
        dropped if it rolls back. ``conn`` must come from ``platform.transaction()`` or be a
        job's ``call.conn``, whose owners run that publishing."""
        if conn is not None:
            return self._joined(ctx, app, work, options, conn)
        unit: WriteUnit | None = None
        try:
            with self.db.begin() as conn:
                unit = self._unit(conn, ctx, app, options)
                result = work(unit)
                self.before_commit(unit)
        except BlindConflict as refused:
            blind_conflicts.charge(self.db, ctx, refused)
            raise
        except sa.exc.IntegrityError as exc:
            raise self._explained(ctx, unit, exc) from None
        for event in unit.pending:
            self.publish(event)
        return result

    def _unit(self, conn: sa.Connection, ctx: Context, app: str, options: WriteOptions) -> WriteUnit:
        runtime = self.runtime_of(conn, app)
        return WriteUnit(conn, ctx, runtime, self.access, self.steps(), self.files, options or WriteOptions())

    def _joined(
        self,
        ctx: Context,
        app: str,
        work: Callable[[WriteUnit], T],
        options: WriteOptions,
        conn: sa.Connection,
    ) -> T:
        after_commit.callbacks(conn)  # refuse a transaction nobody would publish the events of
        unit: WriteUnit | None = None
        try:
            with conn.begin_nested():
                unit = self._unit(conn, ctx, app, options)
                result = work(unit)
                self.before_commit(unit)
        except BlindConflict as refused:
            blind_conflicts.charge(self.db, ctx, refused)
            raise
        except sa.exc.IntegrityError as exc:
            raise self._explained(ctx, unit, exc) from None
        events, publish = list(unit.pending), self.publish

        def publish_all() -> None:
            for event in events:
                publish(event)

        after_commit.on_commit(conn, publish_all)
        return result

    def _explained(self, ctx: Context, unit: WriteUnit | None, exc: sa.exc.IntegrityError) -> Exception:
        """A unique violation as the duplicate it is (read after the rollback), else itself; one
        the caller may not see is refused blindly and charged to them."""
        if unit is None or unit.last_rows is None:
            return exc
        er, rows = unit.last_rows
        with self.db.connect() as conn:
            error = duplicate_value_error(conn, er, rows, self.access, ctx)
        if error is None:
            return exc
        if isinstance(error, BlindConflict):
            blind_conflicts.charge(self.db, ctx, error)
        return error
