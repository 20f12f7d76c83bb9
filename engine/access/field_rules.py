"""Field rules of several roles merged into one plan: what to hide, mask, and refuse to write.

A field is restricted only if every role that grants access to the entity restricts it: roles
add up, so giving someone a second role never takes a field away from them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.access.masking import mask
from engine.apps.role_definitions import OWNER_FIELD, EntityPermissions
from engine.errors import Forbidden
from engine.messages import problem
from form_engine import Problem


@dataclass(frozen=True)
class FieldPlan:
    hidden: frozenset[str] = frozenset()
    readonly: frozenset[str] = frozenset()
    #: field -> mask kind
    masked: Mapping[str, str] = field(default_factory=dict)
    #: read-only fields a new record may still be given (a role masks them, and masked fields
    #: are filled on create; another role shows them plainly but read-only)
    fillable_on_create: frozenset[str] = frozenset()

    @property
    def is_open(self) -> bool:
        return not (self.hidden or self.readonly or self.masked)

    @property
    def secret(self) -> frozenset[str]:
        """Fields whose true value the caller may not learn (hidden or masked)."""
        return self.hidden | frozenset(self.masked)

    def hiding(self, names: Collection[str]) -> FieldPlan:
        """This plan with ``names`` hidden too (values derived from secret fields)."""
        if not names:
            return self
        masked = {k: v for k, v in self.masked.items() if k not in names}
        return FieldPlan(self.hidden | frozenset(names), self.readonly, masked, self.fillable_on_create)

    def present(self, record: dict[str, Any]) -> dict[str, Any]:
        if self.is_open:
            return record
        out = {k: v for k, v in record.items() if k not in self.hidden}
        for name, kind in self.masked.items():
            if name in out:
                out[name] = mask(kind, out[name])
        return out

    def present_changes(self, changes: Any) -> Any:
        if self.is_open or not isinstance(changes, dict):
            return changes
        out = {}
        for name, pair in changes.items():
            if name in self.hidden:
                continue
            kind = self.masked.get(name)
            out[name] = [mask(kind, v) for v in pair] if kind and isinstance(pair, list) else pair
        return out

    def refused(self, data: Mapping[str, Any], op: str, user_id: int | None) -> list[Problem]:
        problems = []
        for name in data:
            if name in self.hidden:
                key = "field_hidden"
            elif name in self.readonly:
                if op == "create" and (
                    name in self.fillable_on_create or (name == OWNER_FIELD and data[name] in (None, user_id))
                ):
                    continue
                key = "field_read_only"
            elif name in self.masked and op != "create":
                key = "field_masked"
            else:
                continue
            problems.append(problem(key, field=name, pointer=f"/{name}", name=name))
        return problems

    def check_write(self, data: Mapping[str, Any], op: str, user_id: int | None) -> None:
        problems = self.refused(data, op, user_id)
        if problems:
            names = ", ".join(p.field or "" for p in problems)
            raise Forbidden(
                "fields_not_writable",
                fields=names,
                problems=problems,
                details={"fields": [p.field for p in problems]},
            )


OPEN = FieldPlan()


def with_default_masks(
    plan: FieldPlan, defaults: Mapping[str, str], permissions: Iterable[EntityPermissions]
) -> FieldPlan:
    """``plan`` with sensitive fields (``defaults``: field -> mask kind) masked unless a role
    grants them in ``full``; a field the roles already restrict keeps that restriction."""
    granted = {name for p in permissions for name, rule in p.fields.items() if rule.access == "full"}
    restricted = plan.hidden | plan.readonly | set(plan.masked)
    extra = {name: kind for name, kind in defaults.items() if name not in granted | restricted}
    if not extra:
        return plan
    return FieldPlan(plan.hidden, plan.readonly, {**plan.masked, **extra}, plan.fillable_on_create)


#: How much of a value each mask kind leaves visible; of several roles' masks the one showing
#: the most applies (roles add up), whatever order the roles come in.
_REVEALS = {"all": 0, "generic": 1}


def merge(permissions: Iterable[EntityPermissions]) -> FieldPlan:
    """One plan from the entity permissions of each of the caller's roles."""
    perms = list(permissions)
    if not perms:
        return OPEN
    names = set().union(*(p.fields for p in perms))
    hidden, readonly, fillable, masked = set(), set(), set(), {}
    for name in names:
        rules = [p.fields.get(name) for p in perms]
        if any(r is None or r.access == "full" for r in rules):
            continue  # some role leaves the field open
        accesses = {r.access for r in rules if r is not None}
        if accesses == {"hidden"}:
            hidden.add(name)
        elif "readonly" in accesses:
            readonly.add(name)  # some role shows it plainly: readable, still not writable
            if "masked" in accesses:
                fillable.add(name)
        else:
            kinds = {r.mask for r in rules if r is not None and r.access == "masked"}
            masked[name] = max(kinds, key=lambda kind: (_REVEALS.get(kind, 2), kind))
    return FieldPlan(frozenset(hidden), frozenset(readonly), masked, frozenset(fillable))
