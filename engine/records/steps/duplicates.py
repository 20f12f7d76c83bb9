"""Duplicate rules: records whose normalised values match are the same real-world thing.

Each rule's key (``form_engine.duplicate_keys``) is kept in a hidden, indexed ``_dupkey_<rule>``
column, written with the row, so finding matches is one indexed query per rule for a whole
batch of rows, and a change of normalisation is one recomputation (a migration step), never a
full scan per write.

Policies: ``block`` refuses the save (409 ``duplicate_record``); ``warn`` refuses it
(409 ``duplicate_warning``) unless the client confirms with ``?confirm_duplicates=true``;
``allow`` saves and reports. Saved writes that matched report ``_duplicates`` in the record
returned (``[{"rule", "policy", "id"}]``). An update is checked only when it changes a key.

Matches are told only as far as the caller may see them (``engine.records.blind_conflicts``):
a match names a record only if the caller can read it with the rule's fields in full. A
``block`` match on any other record still refuses the write, blindly (no record, no item) and
at a cost to the caller's budget of such checks; ``warn`` and ``allow`` matches the caller
cannot see are not reported at all, as if there were none.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.errors import Conflict
from engine.records import blind_conflicts
from engine.records.steps.base import WriteStep
from engine.schema.compiler import dupkey_column_name
from form_engine import DuplicateRule, EntityDef, duplicate_keys

if TYPE_CHECKING:
    from engine.records.steps.base import Batch

MAX_MATCHES = 5
_CHUNK = 500
_KEYS = postgresql.ARRAY(sa.String)


class DuplicateRecord(Conflict):
    """A duplicate rule with policy ``block`` matched an existing record."""

    code = "duplicate_record"


class DuplicateWarning(Conflict):
    """A duplicate rule with policy ``warn`` matched; resend with ``?confirm_duplicates=true``."""

    code = "duplicate_warning"


def holders(conn: sa.Connection, table: sa.Table, rule: str, keys: Iterable[str]) -> dict[str, list[int]]:
    """Key of ``rule`` -> ids of the live rows of ``table`` holding it (lowest first), one
    indexed query per chunk of keys. The import sorts a batch out by asking the same before
    the step does, so both ask here."""
    column = table.c[dupkey_column_name(rule)]
    found: dict[str, list[int]] = defaultdict(list)
    wanted = sorted(keys)
    array = conn.dialect.name == "postgresql"
    chunk = max(len(wanted), 1) if array else _CHUNK
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        # PostgreSQL: the keys as one array, the same short statement for every batch (an IN
        # list of 500 parameters is rewritten and planned anew each time). Sorted here, not by
        # ORDER BY id, which tempts the planner to walk the primary key over the whole table.
        where = column == sa.any_(sa.bindparam("keys", part, type_=_KEYS)) if array else column.in_(part)
        query = sa.select(column, table.c.id).where(where, table.c.deleted_at.is_(None))
        for key, record_id in conn.execute(query):
            found[key].append(record_id)
    for ids in found.values():
        ids.sort()
    return found


#: Keys are locked by bucket: a batch of 10,000 keys takes at most this many advisory locks per
#: rule (PostgreSQL's shared lock table holds a few thousand by default), at the price of now
#: and then serialising two writers of different keys that share a bucket.
LOCK_BUCKETS = 1024


def lock_keys(batch: Batch, keys: set[tuple[str, str]]) -> None:
    """Serialise writers of the same duplicate key until their transactions end, so a check
    and the write it allows are one step under any concurrency. PostgreSQL: a transaction-level
    advisory lock per key bucket, taken in one statement in ascending order (no deadlock between
    two batches); SQLite runs one writer at a time already."""
    conn = batch.unit.conn
    if conn.dialect.name != "postgresql" or not keys:
        return
    scope = f"{batch.er.app}.{batch.er.entity.name}"

    def bucket(rule: str, key: str) -> int:
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        slot = int.from_bytes(digest, "big") % LOCK_BUCKETS
        name = hashlib.blake2b(f"{scope}.{rule}#{slot}".encode(), digest_size=8).digest()
        return int.from_bytes(name, "big", signed=True)

    numbers = sorted({bucket(rule, key) for rule, key in keys})
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"),
        {"keys": numbers},
    )


class Duplicates(WriteStep):
    """Computes each row's keys, finds matches for the whole batch, and judges by policy."""

    def before(self, batch: Batch) -> None:
        entity = batch.er.entity
        if batch.op == "delete":
            return
        self._ration(batch)
        if not entity.duplicate_rules:
            return
        rules = {rule.name: rule for rule in entity.duplicate_rules}
        #: row index -> {rule: key} for rows whose keys must be checked
        checked: dict[int, dict[str, str]] = {}
        for i, (row, old) in enumerate(zip(batch.rows, batch.old, strict=True)):
            fresh = (
                self._restored(row, rules) if batch.op == "restore" else self._moved(entity, row, old, rules)
            )
            if fresh:
                checked[i] = fresh
        if not checked:
            return
        lock_keys(batch, {(name, key) for keys in checked.values() for name, key in keys.items()})
        stored = {
            name: holders(
                batch.unit.conn,
                batch.er.table,
                name,
                {keys[name] for keys in checked.values() if name in keys},
            )
            for name in rules
        }
        seen = self._seen(batch, rules, stored)
        first_in_batch: dict[tuple[str, str], int] = {}
        blind: str | None = None
        for i, keys in checked.items():
            own = batch.ids[i] if i < len(batch.ids) else None
            matches: list[dict[str, Any]] = []
            for name, key in keys.items():
                policy = rules[name].policy
                ids = [m for m in stored[name].get(key, []) if m != own]
                shown = [m for m in ids if m in seen[name]]
                matches += [{"rule": name, "policy": policy, "id": m} for m in shown[:MAX_MATCHES]]
                if policy == "block" and len(shown) < len(ids) and blind is None:
                    blind = name
                earlier = first_in_batch.setdefault((name, key), i)
                if earlier != i:  # the caller's own values: nothing hidden
                    matches.append({"rule": name, "policy": policy, "id": None, "item": earlier})
            if matches:
                self._judge(batch, i, matches, rules)
        if blind is not None:
            rule = rules[blind]
            raise blind_conflicts.blind(batch.er, len(batch.rows), rule.label or entity.label)

    @staticmethod
    def _ration(batch: Batch) -> None:
        """A caller out of blind checks may not write values checked against other records
        (429), whether or not they would match: the refusal must not depend on the data."""
        unit = batch.unit
        if blind_conflicts.unrestricted(unit.ctx):
            return
        names = {k for row in batch.rows for k, v in row.items() if v is not None}
        if blind_conflicts.needs_check(batch.er, names):
            blind_conflicts.refuse_if_exhausted(unit.conn, unit.ctx, unit.now)

    @staticmethod
    def _seen(
        batch: Batch, rules: dict[str, DuplicateRule], stored: dict[str, dict[str, list[int]]]
    ) -> dict[str, set[int]]:
        """Rule -> the matched records the caller may be told about."""
        unit = batch.unit
        scope = None if blind_conflicts.unrestricted(unit.ctx) else unit.readable(batch.er)
        return {
            name: blind_conflicts.visible_ids(
                unit.conn,
                unit.access,
                unit.ctx,
                batch.er,
                {m for ids in found.values() for m in ids},
                rules[name].fields,
                scope,
            )
            for name, found in stored.items()
        }

    @staticmethod
    def _restored(row: dict[str, Any], rules: dict[str, DuplicateRule]) -> dict[str, str]:
        """A restored row comes back among the live: its stored keys must still be free."""
        stored = {name: row.get(dupkey_column_name(name)) for name in rules}
        return {name: key for name, key in stored.items() if key is not None}

    @staticmethod
    def _moved(
        entity: EntityDef, row: dict[str, Any], old: Mapping[str, Any] | None, rules: dict[str, DuplicateRule]
    ) -> dict[str, str]:
        """The keys of a created row, or those an update moved; written with the row."""
        keys = duplicate_keys(entity, row if old is None else {**old, **row})
        fresh: dict[str, str] = {}
        for name in rules:
            column = dupkey_column_name(name)
            key = keys.get(name)
            if old is not None and old.get(column) == key:
                continue
            row[column] = key
            if key is not None:
                fresh[name] = key
        return fresh

    def _judge(
        self, batch: Batch, i: int, matches: list[dict[str, Any]], rules: dict[str, DuplicateRule]
    ) -> None:
        entity = batch.er.entity
        at = batch.pointers[i] if i < len(batch.pointers) else ""
        for policy, error in (("block", DuplicateRecord), ("warn", DuplicateWarning)):
            hits = [m for m in matches if m["policy"] == policy]
            if not hits or (policy == "warn" and batch.unit.options.confirm_duplicates):
                continue
            rule = rules[hits[0]["rule"]]
            label = rule.label or entity.label
            ids = ", ".join(str(m["id"]) if m["id"] is not None else f"#{m['item']}" for m in hits)
            raise error(
                "duplicate_record" if policy == "block" else "duplicate_warning",
                entity=entity.label,
                ids=ids,
                rule=label,
                where=f" ({at.strip('/')})" if at else "",
                details={"matches": hits, "existing_id": hits[0]["id"], "item": i},
            )
        batch.duplicates[i] = matches
