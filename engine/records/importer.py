"""Records from a spreadsheet: mapped, parsed the way people type, de-duplicated, written in
batches through the one write unit.

Each batch is one transaction of the write unit (the caller's permissions, validation, duplicate
rules, roll-ups, history and events all apply) and, for a stored import, also moves the import's
progress mark: a process killed mid-batch loses that batch's transaction and its mark together,
so resuming redoes exactly that batch and no row is written twice. A batch whose rows the unit
refuses is retried without the refused rows; the refused rows, with what is wrong at which
column, go to the import's error file for a person to fix and import again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import sqlalchemy as sa

from engine.apps.runtime import EntityRuntime
from engine.errors import InvalidInput, TangramError
from engine.messages import both, problem
from engine.records.steps.duplicates import holders
from engine.records.tabular import Table
from engine.records.writer import WriteOptions, WriteUnit
from engine.schema import system_tables as st
from form_engine import FieldDef, FieldValueError, LookupConfig, Problem, duplicate_keys

OnDuplicate = Literal["skip", "update", "create"]
ON_DUPLICATE: tuple[OnDuplicate, ...] = ("skip", "update", "create")
#: Rows per transaction: big enough to amortise a commit, small enough to redo after a crash.
BATCH_SIZE = 500
#: Distinct cell texts remembered per field.
_MEMO = 10_000
#: A batch is retried without its refused rows at most this many times, then given up whole.
RETRIES = 3

Progress = Callable[[int], None]
#: Runs ``work(unit)`` in one write-unit transaction (``RecordService.write`` bound to a caller).
WriteRunner = Callable[[Callable[[WriteUnit], Any], WriteOptions], Any]


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    mapping: Mapping[str, str]
    on_duplicate: OnDuplicate = "skip"
    batch_size: int = BATCH_SIZE
    dry_run: bool = False


@dataclasses.dataclass
class RowError:
    """A row not imported: its number in the file (the header is row 1) and what is wrong."""

    row: int
    cells: list[str]
    problems: list[Problem]


@dataclasses.dataclass
class ImportTally:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0

    def add(self, other: ImportTally) -> None:
        for name in ("created", "updated", "skipped", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _DryRun(Exception):
    """Raised at the end of a dry-run batch so its transaction rolls back."""

    def __init__(self, tally: ImportTally) -> None:
        self.tally = tally


@dataclasses.dataclass
class _Row:
    number: int
    cells: list[str]
    #: JSON values for the write unit
    values: dict[str, Any]
    lookups: dict[str, str]
    #: the same as stored values, for the duplicate keys
    python: dict[str, Any] = dataclasses.field(default_factory=dict)


class Importer:
    """Imports ``table`` into one entity as the caller whose write unit ``run`` opens."""

    def __init__(self, table: Table, options: ImportOptions) -> None:
        if options.on_duplicate not in ON_DUPLICATE:
            raise InvalidInput(
                "import_bad_policy", policy=options.on_duplicate, policies=", ".join(ON_DUPLICATE)
            )
        self.table = table
        self.options = options
        self.columns = {column: table.header.index(column) for column in options.mapping}
        self._memo: dict[str, dict[str, tuple[Any, Any] | FieldValueError]] = {}

    def run_batch(
        self,
        write: WriteRunner,
        entity: str,
        start: int,
        on_commit: Callable[[WriteUnit, int, ImportTally], None] | None = None,
    ) -> tuple[ImportTally, list[RowError]]:
        """Rows ``start`` up to one batch on: written (or, in a dry run, checked and rolled back).
        ``on_commit(unit, next_row, tally)`` runs in the batch's transaction."""
        end = min(start + self.options.batch_size, len(self.table.rows))
        numbers = list(range(start, end))
        errors: dict[int, RowError] = {}
        for _attempt in range(RETRIES + 1):
            todo = [n for n in numbers if n not in errors]

            def work(unit: WriteUnit, todo: list[int] = todo) -> ImportTally:
                er = unit.runtime.entity(entity)
                unit.access.require(unit.ctx, er, "import")
                tally = self._write(unit, er, todo)
                tally.failed = len(errors)
                if on_commit is not None:
                    on_commit(unit, end, tally)
                if self.options.dry_run:
                    raise _DryRun(tally)
                return tally

            try:
                tally: ImportTally = write(work, WriteOptions(confirm_duplicates=True))
                return tally, sorted(errors.values(), key=lambda e: e.row)
            except _DryRun as done:
                return done.tally, sorted(errors.values(), key=lambda e: e.row)
            except _RowsRefused as refused:
                for n, found in refused.problems.items():
                    errors.setdefault(n, self._error(n, []))
                    errors[n].problems.extend(found)
            except TangramError as exc:
                located = self._locate(exc, todo)
                if not located:
                    raise
                for n, found in located.items():
                    errors.setdefault(n, self._error(n, []))
                    errors[n].problems.extend(found)
        raise InvalidInput("import_batch_failed", first=start + 2, last=end + 1)

    # -- one attempt -----------------------------------------------------------------------------
    def _write(self, unit: WriteUnit, er: EntityRuntime, numbers: list[int]) -> ImportTally:
        rows, refused = self._parse(er, numbers)
        refused.update(self._resolve_lookups(unit, er, rows))
        if refused:
            raise _RowsRefused(refused)
        tally = ImportTally()
        creates, updates = self._dedupe(unit, er, rows, tally)
        if creates:
            unit.create(er, [r.values for r in creates], pointers=[f"/rows/{r.number}" for r in creates])
        if updates:
            unit.update(
                er, [(i, r.values) for i, r in updates], pointers=[f"/rows/{r.number}" for _, r in updates]
            )
        tally.created += len(creates)
        tally.updated += len(updates)
        return tally

    def _parse(self, er: EntityRuntime, numbers: list[int]) -> tuple[list[_Row], dict[int, list[Problem]]]:
        rows: list[_Row] = []
        refused: dict[int, list[Problem]] = {}
        fields = {f.name: f for f in er.entity.fields}
        # Per mapped column, worked out once per batch rather than once per cell: where it is,
        # the field it fills (None: a lookup or the owner, resolved by name later) and its memo.
        plan = [
            (
                column,
                self.columns[column],
                name,
                None if name == "owner" or fields[name].type == "lookup" else fields[name],
            )
            for column, name in self.options.mapping.items()
        ]
        memos = {name: self._memo.setdefault(name, {}) for _c, _i, name, _f in plan}
        table_rows = self.table.rows
        for n in numbers:
            cells = table_rows[n]
            row = _Row(n, cells, {}, {})
            found: list[Problem] = []
            for column, index, name, field in plan:
                text = cells[index].strip()
                if not text:
                    continue
                if field is None:
                    row.lookups[name] = text
                    continue
                memo = memos[name]
                parsed = memo[text] if text in memo else self._cell(field, memo, text)
                if isinstance(parsed, FieldValueError):
                    params = {**parsed.params, "label": both(field.label)}
                    found.append(
                        Problem(parsed.problem_code, field=name, pointer=f"/{column}", params=params)
                    )
                    continue
                row.python[name], row.values[name] = parsed
            if found:
                refused[n] = found
            rows.append(row)
        return rows, refused

    @staticmethod
    def _cell(field: FieldDef, memo: dict[str, Any], text: str) -> tuple[Any, Any] | FieldValueError:
        """``(stored value, JSON value)`` of a cell, or why it is refused; remembered per field
        (``memo``), since a spreadsheet repeats its options, cities and dates from row to row."""
        kind = field.field_type
        result: tuple[Any, Any] | FieldValueError
        try:
            value = kind.parse_text(text, field)
            result = (value, kind.to_json(value, field) if value is not None else None)
        except FieldValueError as exc:
            result = exc
        if len(memo) < _MEMO:
            memo[text] = result
        return result

    def _resolve_lookups(
        self, unit: WriteUnit, er: EntityRuntime, rows: list[_Row]
    ) -> dict[int, list[Problem]]:
        """Lookup cells name a record by its title or a unique field (the caller must be able to
        read it); owner cells name a user by username or display name."""
        refused: dict[int, list[Problem]] = {}
        wanted: dict[str, set[str]] = {}
        for row in rows:
            for name, text in row.lookups.items():
                wanted.setdefault(name, set()).add(text)
        for name, texts in wanted.items():
            ids = self._owner_ids(unit, texts) if name == "owner" else self._record_ids(unit, er, name, texts)
            column = next(c for c, f in self.options.mapping.items() if f == name)
            for row in rows:
                cell = row.lookups.get(name)
                if cell is None:
                    continue
                matches = ids.get(cell, [])
                if len(matches) == 1:
                    row.values[name] = row.python[name] = matches[0]
                else:
                    key = "import_lookup_missing" if not matches else "import_lookup_ambiguous"
                    refused.setdefault(row.number, []).append(
                        problem(key, field=name, pointer=f"/{column}", value=cell, count=len(matches))
                    )
        return refused

    @staticmethod
    def _owner_ids(unit: WriteUnit, texts: set[str]) -> dict[str, list[int]]:
        users = st.users
        found: dict[str, list[int]] = {}
        query = sa.select(users.c.id, users.c.username, users.c.display_name).where(
            sa.or_(users.c.username.in_(texts), users.c.display_name.in_(texts))
        )
        for user_id, username, display in unit.conn.execute(query):
            for text in {username, display} & texts:
                found.setdefault(text, []).append(user_id)
        return found

    @staticmethod
    def _record_ids(unit: WriteUnit, er: EntityRuntime, name: str, texts: set[str]) -> dict[str, list[int]]:
        field = er.entity.field(name)
        target = unit.runtime.entity(field.config_as(LookupConfig).entity)
        table = target.table
        keys = [f.name for f in target.entity.fields if f.name == target.entity.title_field or f.unique]
        found: dict[str, set[int]] = {}
        scope = unit.readable(target)
        for key in keys:
            column = table.c[key]
            query = sa.select(table.c.id, column).where(
                sa.cast(column, sa.String).in_(texts), table.c.deleted_at.is_(None)
            )
            if scope is not None:
                query = query.where(scope)
            for record_id, value in unit.conn.execute(query):
                found.setdefault(str(value), set()).add(record_id)
        numeric = [t for t in texts if t.isdigit() and t not in found]
        if numeric:
            query = sa.select(table.c.id).where(
                table.c.id.in_([int(t) for t in numeric]), table.c.deleted_at.is_(None)
            )
            if scope is not None:
                query = query.where(scope)
            for record_id in unit.conn.execute(query).scalars():
                found.setdefault(str(record_id), set()).add(record_id)
        return {text: sorted(ids) for text, ids in found.items()}

    def _dedupe(
        self, unit: WriteUnit, er: EntityRuntime, rows: list[_Row], tally: ImportTally
    ) -> tuple[list[_Row], list[tuple[int, _Row]]]:
        """Split the batch by the policy: rows to create, and (id, row) pairs to update."""
        entity = er.entity
        policy = self.options.on_duplicate
        if policy == "create" or not entity.duplicate_rules:
            return rows, []
        keys = [duplicate_keys(entity, row.python) for row in rows]
        stored: dict[tuple[str, str], list[int]] = {}
        for rule in entity.duplicate_rules:
            wanted = {k[rule.name] for k in keys if rule.name in k}
            for key, ids in holders(unit.conn, er.table, rule.name, wanted).items():
                stored[(rule.name, key)] = ids
        creates: list[_Row] = []
        updates: dict[int, _Row] = {}
        seen: dict[tuple[str, str], _Row | int] = {}
        for row, row_keys in zip(rows, keys, strict=True):
            existing = sorted({i for item in row_keys.items() for i in stored.get(item, [])})
            earlier = next((seen[item] for item in row_keys.items() if item in seen), None)
            if existing or earlier is not None:
                if policy == "skip":
                    tally.skipped += 1
                    continue
                target = existing[0] if existing else earlier
                if isinstance(target, int):
                    merged = updates.setdefault(target, _Row(row.number, row.cells, {}, {}))
                    merged.values.update(row.values)
                else:
                    assert target is not None
                    target.values.update(row.values)
                    tally.skipped += 1  # folded into the earlier row of the file
                continue
            creates.append(row)
            for item in row_keys.items():
                seen[item] = row
        return creates, list(updates.items())

    # -- errors ----------------------------------------------------------------------------------
    def _error(self, n: int, problems: list[Problem]) -> RowError:
        return RowError(n + 2, self.table.rows[n], problems)

    @staticmethod
    def _locate(exc: TangramError, todo: Sequence[int]) -> dict[int, list[Problem]]:
        """The unit's problems by row (pointers ``/rows/<n>/<field>``); empty if any is not
        about one row, so the error is the whole batch's."""
        located: dict[int, list[Problem]] = {}
        for p in exc.problems:
            parts = (p.pointer or "").split("/")
            if len(parts) < 3 or parts[1] != "rows" or not parts[2].isdigit() or int(parts[2]) not in todo:
                return {}
            located.setdefault(int(parts[2]), []).append(
                dataclasses.replace(p, pointer="/" + "/".join(parts[3:]))
            )
        return located


class _RowsRefused(Exception):
    def __init__(self, problems: dict[int, list[Problem]]) -> None:
        self.problems = problems
