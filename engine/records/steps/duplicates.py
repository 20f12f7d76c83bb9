"""Duplicate rules: records whose normalised values match are the same real-world thing.

Each rule's key (``form_engine.duplicate_keys``) is kept in a hidden, indexed ``_dupkey_<rule>``
column, written with the row, so finding a match is one indexed equality query per rule and a
change of normalisation is one recomputation (a migration step), never a full scan per write.

Policies: ``block`` refuses the save (409 ``duplicate_record``); ``warn`` refuses it
(409 ``duplicate_warning``) unless the client confirms with ``?confirm_duplicates=true``;
``allow`` saves and reports. Saved writes that matched report ``_duplicates`` in the record
returned (``[{"rule", "policy", "id"}]``). An update is checked only when it changes a key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from engine.errors import Conflict
from engine.schema.compiler import dupkey_column_name
from form_engine import duplicate_keys

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.steps.base import Write

MAX_MATCHES = 5


class DuplicateRecord(Conflict):
    """A duplicate rule with policy ``block`` matched an existing record."""

    code = "duplicate_record"


class DuplicateWarning(Conflict):
    """A duplicate rule with policy ``warn`` matched; resend with ``?confirm_duplicates=true``."""

    code = "duplicate_warning"


def find_matches(write: Write, er: EntityRuntime, rule: str, key: str, own_id: Any) -> list[int]:
    table = er.table
    column = table.c[dupkey_column_name(rule)]
    query = sa.select(table.c.id).where(column == key, table.c.deleted_at.is_(None))
    if own_id is not None:
        query = query.where(table.c.id != own_id)
    return list(write.conn.execute(query.order_by(table.c.id).limit(MAX_MATCHES)).scalars())


class Duplicates:
    def before(self, write: Write) -> None:
        entity = write.er.entity
        if not entity.duplicate_rules or write.op not in ("create", "update"):
            return
        policies = {rule.name: rule for rule in entity.duplicate_rules}
        batch: dict[str, int] = {}
        pending: dict[int, dict[str, Any]] = {}
        for i, (row, old) in enumerate(zip(write.rows, write.old, strict=True)):
            merged = row if old is None else {**old, **row}
            keys = duplicate_keys(entity, merged)
            if old is None:
                for rule in policies:
                    row[dupkey_column_name(rule)] = keys.get(rule)
            else:
                stored = {r: old.get(dupkey_column_name(r)) for r in policies}
                if all(keys.get(r) == stored[r] for r in policies):
                    continue
                pending[i] = {dupkey_column_name(r): keys.get(r) for r in policies}
            own = write.ids[i] if i < len(write.ids) else None
            matches = []
            for rule_name, key in keys.items():
                if old is not None and stored[rule_name] == key:
                    continue
                rule = policies[rule_name]
                found = find_matches(write, write.er, rule_name, key, own)
                matches += [{"rule": rule_name, "policy": rule.policy, "id": m} for m in found]
                if key in batch:
                    matches.append({"rule": rule_name, "policy": rule.policy, "id": None, "item": batch[key]})
                batch.setdefault(key, i)
            if matches:
                self._judge(write, i, matches)
        if pending:
            write.notes["duplicate_keys"] = pending

    def _judge(self, write: Write, i: int, matches: list[dict[str, Any]]) -> None:
        entity = write.er.entity
        at = write.pointers[i] if i < len(write.pointers) else ""
        for policy, error in (("block", DuplicateRecord), ("warn", DuplicateWarning)):
            hits = [m for m in matches if m["policy"] == policy]
            if not hits or (policy == "warn" and write.options.get("confirm_duplicates")):
                continue
            rule = next(r for r in entity.duplicate_rules if r.name == hits[0]["rule"])
            label = rule.label or entity.label
            ids = ", ".join(str(m["id"]) if m["id"] is not None else f"#{m['item']}" for m in hits)
            where = f" ({at.strip('/')})" if at else ""
            if policy == "block":
                en = f"this {entity.label.en} duplicates record {ids} (rule {label.en}){where}; not saved"
                zh = f"与记录 {ids} 重复（规则：{label.zh}），未保存"
            else:
                en = (
                    f"this {entity.label.en} looks like record {ids} (rule {label.en}){where}; "
                    "resend with ?confirm_duplicates=true to save it anyway"
                )
                zh = f"疑似与记录 {ids} 重复（规则：{label.zh}）；确认保存请加 ?confirm_duplicates=true"
            raise error(en, zh, details={"matches": hits, "existing_id": hits[0]["id"], "item": i})
        write.notes.setdefault("duplicates", {})[i] = matches

    def after(self, write: Write) -> None:
        pending = write.notes.pop("duplicate_keys", None)
        if not pending:
            return
        table = write.er.table
        for i, values in pending.items():
            write.conn.execute(table.update().where(table.c.id == write.ids[i]).values(values))
