"""Role-based access: the policy the platform enforces by default.

Who gets what:

- the system itself (a context without a user: jobs, migrations) and platform administrators
  may do everything;
- anyone else may do exactly what the roles they hold in the app grant, added together: those
  assigned to them, and those the app gives ``everyone``. Without a grant nothing is open
  (403 naming the permission): an app is closed until a role opens it, so defining a first
  role never silently locks out people who relied on an open app.

Rows outside a user's scope are not there for them (404); an operation none of their roles
grants is refused (403) and logged as ``permission_denied``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

import rule_engine
from engine.access import field_rules
from engine.access.derived_fields import derived_secrets
from engine.access.field_rules import FieldPlan
from engine.access.protocol import Operation
from engine.access.scopes import Subject, grant_clause, shared_clause
from engine.apps.record_query import entity_dsl_fields, entity_relations, filter_clause, filter_error
from engine.apps.role_definitions import EntityPermissions
from engine.context import Context
from engine.errors import Forbidden, TangramError
from engine.messages import problem
from form_engine import LookupConfig

if TYPE_CHECKING:
    from engine.apps.runtime import AppRuntime, EntityRuntime


@dataclass(frozen=True)
class EntityRoles:
    """What the app's roles say about one entity, computed once per compiled entity."""

    runtime: AppRuntime
    #: roles every signed-in user holds without an assignment
    everyone: frozenset[str]
    #: role name -> its permissions on this entity (roles that do not mention it are absent)
    permissions: Mapping[str, EntityPermissions]


class RoleAccess:
    """Enforces the roles of each app's package; see the module docstring for the defaults."""

    # -- what applies to a caller -------------------------------------------------------------
    @staticmethod
    def _entity_roles(er: EntityRuntime) -> EntityRoles:
        """What the roles of ``er``'s own app version say about it, derived once per version."""
        roles: EntityRoles | None = er.derived.get("roles")
        if roles is None:
            runtime = er.app_runtime
            if runtime is None:  # pragma: no cover - every EntityRuntime is built by an AppRuntime
                raise RuntimeError(f"{er.entity.name} belongs to no compiled app")
            name = er.entity.name
            package_roles = runtime.package.roles
            permissions = {r.name: r.permissions[name] for r in package_roles if name in r.permissions}
            everyone = frozenset(r.name for r in package_roles if r.everyone)
            roles = er.derived["roles"] = EntityRoles(runtime, everyone, permissions)
        return roles

    def _held(self, ctx: Context, er: EntityRuntime) -> list[EntityPermissions] | None:
        """The caller's permissions on the entity, one per role held; None when unrestricted."""
        user = ctx.user
        if user is None or user.is_admin:
            return None
        roles = self._entity_roles(er)
        held = user.roles_in(er.app) | roles.everyone
        return [p for name, p in roles.permissions.items() if name in held]

    def _plan(self, ctx: Context, er: EntityRuntime) -> FieldPlan:
        """The caller's field rules on ``er``, derived values of what they may not see included."""
        user = ctx.user
        if user is None or user.is_admin:
            return field_rules.OPEN
        plans: dict[frozenset[str], FieldPlan] = er.derived.setdefault("field_plans", {})
        key = user.roles_in(er.app)
        plan = plans.get(key)
        if plan is None:
            runtime = self._entity_roles(er).runtime
            resolve = runtime.entities.get

            def secret_of(name: str) -> Collection[str]:
                """Another entity's secrets: its rules and its own derived values (not followed
                further, so lookups that form a cycle end)."""
                target = resolve(name)
                if target is None:
                    return ()
                secret = self._base_plan(ctx, target).secret
                return secret | derived_secrets(target, secret, None, resolve)

            base = self._base_plan(ctx, er)
            plan = base.hiding(derived_secrets(er, base.secret, secret_of, resolve))
            plans[key] = plan
        return plan

    def _base_plan(self, ctx: Context, er: EntityRuntime) -> FieldPlan:
        """The field rules of the caller's roles on ``er``, sensitive types masked by default."""
        held = self._held(ctx, er) or []
        defaults = {f.name: f.field_type.default_mask for f in er.entity.fields if f.field_type.default_mask}
        return field_rules.with_default_masks(field_rules.merge(held), defaults, held)

    # -- the AccessPolicy protocol ------------------------------------------------------------
    def require(self, ctx: Context, er: EntityRuntime, op: Operation) -> None:
        held = self._held(ctx, er)
        if held is None or any(p.grant(op) for p in held):
            return
        entity = er.entity
        permission = f"{er.app}.{entity.name}.{op}"
        raise self._deny(
            ctx,
            er,
            {"permission": permission},
            Forbidden(
                "permission_missing",
                operation=op,
                entity=entity.label,
                permission=permission,
                problems=[problem("missing_permission", permission=permission)],
                details={"permission": permission, "app": er.app, "entity": entity.name, "operation": op},
            ),
        )

    def row_filter(self, ctx: Context, conn: sa.Connection, er: EntityRuntime, op: Operation) -> Any:
        held = self._held(ctx, er)
        if held is None:
            return None
        assert ctx.user is not None
        grants = [g for g in (p.grant(op) for p in held) if g is not None]
        if any(g.scope == "all" for g in grants):
            return None
        subject = Subject(ctx.user, conn)
        runtime = self._entity_roles(er).runtime
        clauses = [
            grant_clause(er.table, subject, g, lambda text: self._condition(runtime, er, text))
            for g in grants
        ]
        shared = shared_clause(er.table, subject, er.app, er.entity.name, op)
        if shared is not None:
            clauses.append(shared)
        return sa.or_(*clauses) if clauses else sa.false()

    def check_write(self, ctx: Context, er: EntityRuntime, data: Mapping[str, Any], op: Operation) -> None:
        plan = self._plan(ctx, er)
        if plan.is_open:
            return
        try:
            plan.check_write(data, op, ctx.user_id)
        except Forbidden as exc:
            raise self._deny(ctx, er, {"operation": op, "fields": exc.details["fields"]}, exc) from None

    def check_query(self, ctx: Context, er: EntityRuntime, filter: str | None, sort: str | None) -> None:
        plan = self._plan(ctx, er)
        secret = plan.secret
        used: dict[str, str] = {}
        if filter and filter.strip():
            runtime = self._entity_roles(er).runtime
            try:
                expression = rule_engine.compile(
                    filter, entity_dsl_fields(runtime, er), relations=entity_relations(runtime, er)
                )
            except rule_engine.RuleError:
                expression = None  # the record service reports the syntax error itself
                if plan.hidden:  # ... unless its "did you mean" could name a hidden field
                    self._refuse_with_visible_hint(ctx, runtime, er, filter, plan.hidden)
            for path in expression.fields if expression is not None else ():
                head, _, rest = path.partition(".")
                if not rest:
                    used.setdefault(head, "/filter")
                    continue
                # A path through a lookup reads the other entity: its field rules apply too.
                target = runtime.entity(er.entity.field(head).config_as(LookupConfig).entity)
                self.require(ctx, target, "read")
                target_plan = self._plan(ctx, target)
                if rest in target_plan.hidden or rest in target_plan.masked:
                    used.setdefault(path, "/filter")
                    secret = secret | {path}
            for relation, paths in expression.relations.items() if expression is not None else ():
                # A quantifier reads another entity's rows: its read permission and field rules apply.
                target = runtime.entity(relation)
                self.require(ctx, target, "read")
                target_plan = self._plan(ctx, target)
                for path in paths:
                    head, _, rest = path.partition(".")
                    plan_of, name = target_plan, head
                    if rest:  # through a lookup of the related entity: that entity's rules too
                        third = runtime.entity(target.entity.field(head).config_as(LookupConfig).entity)
                        self.require(ctx, third, "read")
                        plan_of, name = self._plan(ctx, third), rest
                    if name in plan_of.hidden or name in plan_of.masked:
                        used.setdefault(f"{relation}.{path}", "/filter")
                        secret = secret | {f"{relation}.{path}"}
        for key in (sort or "").split(","):
            used.setdefault(key.strip().lstrip("-+"), "/sort")
        refused = sorted(name for name in used if name in secret)
        if not refused:
            return
        names = ", ".join(refused)
        raise self._deny(
            ctx,
            er,
            {"operation": "read", "fields": refused},
            Forbidden(
                "fields_not_queryable",
                fields=names,
                problems=[
                    problem("field_hidden.query", field=name, pointer=used[name], name=name)
                    for name in refused
                ],
                details={"fields": refused},
            ),
        )

    def field_plan(self, ctx: Context, er: EntityRuntime) -> FieldPlan:
        return self._plan(ctx, er)

    def present(self, ctx: Context, er: EntityRuntime, record: dict[str, Any]) -> dict[str, Any]:
        return self._plan(ctx, er).present(record)

    def present_changes(self, ctx: Context, er: EntityRuntime, changes: Any) -> Any:
        return self._plan(ctx, er).present_changes(changes)

    # -- helpers ---------------------------------------------------------------------------------
    def _refuse_with_visible_hint(
        self, ctx: Context, runtime: AppRuntime, er: EntityRuntime, text: str, hidden: Collection[str]
    ) -> None:
        """Raise the 422 of a filter that does not compile, compiled against the fields the
        caller may see, so its "did you mean" names none hidden from them."""
        visible: dict[str, Any] = {}
        for name, kind in entity_dsl_fields(runtime, er).items():
            if name in hidden:
                continue
            if isinstance(kind, dict):  # a lookup: the target's own rules apply to its fields
                target = runtime.entity(er.entity.field(name).config_as(LookupConfig).entity)
                unseen = self._plan(ctx, target).hidden
                kind = {k: v for k, v in kind.items() if k not in unseen}
            visible[name] = kind
        try:
            rule_engine.compile(text, visible)
        except rule_engine.RuleError as exc:
            raise filter_error(exc) from None

    @staticmethod
    def _condition(runtime: AppRuntime, er: EntityRuntime, text: str) -> Any:
        # Compiled per query (the DSL caches its parse): ``today()`` must mean today.
        return filter_clause(runtime, er, text)

    @staticmethod
    def _deny(ctx: Context, er: EntityRuntime, details: dict[str, Any], error: TangramError) -> TangramError:
        """Attach the audit entry to the refusal. It is written once the failing transaction
        has rolled back (the HTTP layer does it): on SQLite a write now would wait on the
        transaction's own lock."""
        error.audit = {
            "event": "permission_denied",
            "ctx": ctx,
            "app": er.app,
            "target": er.entity.name,
            "details": details,
        }
        return error
