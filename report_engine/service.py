"""Running reports and dashboards for a caller: find the definition, analyse it against the
app's current version, check the caller's permissions, answer from the cache or compile and
run it under the caller's row scopes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jsonschema
import sqlalchemy as sa

from engine import AppRuntime, Context, EntityRuntime, Forbidden, Platform, TangramError, put_section
from form_engine import Problem
from report_engine import drill, grouped, permissions, special
from report_engine.cache import MAX_ENTRIES, ResultCache
from report_engine.definitions import Report, analyse
from report_engine.errors import ReportInvalid, ReportNotFound, ReportStale
from report_engine.messages import report_problem
from report_engine.params import Bound, bind
from report_engine.periods import next_boundary
from report_engine.presentation import Labeller, chart_hint
from report_engine.run_context import RunContext
from report_engine.schema import DASHBOARD, REPORT

Shape = Callable[[RunContext], dict[str, Any]]
_SHAPES: dict[str, Shape] = {
    "summary": grouped.summary,
    "matrix": grouped.matrix,
    "kpi": grouped.kpi,
    "funnel": special.funnel,
    "cohort": special.cohort,
}


def schema_problems(schema: dict[str, Any], data: Any) -> list[Problem]:
    """JSON Schema problems of an unsaved definition, with pointers."""
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        pointer = "".join(f"/{p}" for p in error.absolute_path)
        detail = {"zh": error.message, "en": error.message}
        out.append(Problem("report_schema", pointer=pointer, params={"detail": detail}))
    return out


class ReportService:
    """Reports and dashboards of every app, for any caller; one per platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.cache = ResultCache()
        self.zone = ZoneInfo(platform.settings.timezone)
        #: saved reports analysed once per app version: (app, version, name) -> (report, entities)
        self._analysed: dict[tuple[str, int, str], tuple[Report, frozenset[str]]] = {}

    # -- definitions -----------------------------------------------------------------------
    def _items(self, runtime: AppRuntime, section: str) -> list[dict[str, Any]]:
        return runtime.package.section(section)

    def definition(self, conn: sa.Connection, app: str, name: str) -> tuple[AppRuntime, dict[str, Any]]:
        runtime = self.platform.runtime(conn, app)
        for item in self._items(runtime, "reports"):
            if item["name"] == name:
                return runtime, item
        raise ReportNotFound("report_not_found", app=app, name=name)

    def save(self, ctx: Context, app: str, name: str, data: dict[str, Any]) -> dict[str, Any]:
        """Create or replace one report (a new app version; the whole package is checked)."""
        if ctx.user is None or not ctx.user.is_admin:
            raise Forbidden("admin_only")
        data = {**data, "name": name}
        with self.platform.db.begin() as conn:
            runtime = self.platform.runtime(conn, app)
            items = [i for i in self._items(runtime, "reports") if i["name"] != name]
            position = next(
                (k for k, i in enumerate(self._items(runtime, "reports")) if i["name"] == name), len(items)
            )
            items.insert(position, data)
            put_section(conn, app, "reports", items, ctx)
        return data

    # -- running ---------------------------------------------------------------------------
    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.zone).date()

    def run(
        self, ctx: Context, app: str, name: str, params: dict[str, Any] | None = None, *, strict: bool = True
    ) -> dict[str, Any]:
        with self.platform.db.connect() as conn:
            runtime, data = self.definition(conn, app, name)
            return self._run(conn, ctx, runtime, data, params or {}, strict=strict, stale=True)

    def preview(
        self, ctx: Context, app: str, data: Any, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Run an unsaved definition (the builder's preview); never cached."""
        problems = schema_problems(REPORT, data)
        if problems:
            raise ReportInvalid("report_invalid", problems=problems)
        with self.platform.db.connect() as conn:
            runtime = self.platform.runtime(conn, app)
            return self._run(conn, ctx, runtime, data, params or {}, strict=True, stale=False, cache=False)

    def analysed(self, runtime: AppRuntime, data: dict[str, Any], *, stale: bool) -> Report:
        result = analyse(runtime.package, data)
        if isinstance(result, list):
            if stale:
                raise ReportStale("report_stale", name=data.get("name"), problems=result)
            raise ReportInvalid("report_invalid", problems=result)
        return result

    def _saved(
        self, runtime: AppRuntime, data: dict[str, Any], *, stale: bool
    ) -> tuple[Report, frozenset[str]]:
        """The analysed report and the entities it reads; a saved report's analysis is kept
        for its app version (a new version is a new key), so a warm run skips it."""
        key = (runtime.package.name, runtime.version, str(data.get("name")))
        found = self._analysed.get(key) if stale else None
        if found is not None:
            return found
        report = self.analysed(runtime, data, stale=stale)
        found = (report, frozenset(self._entities(runtime, report)))
        if stale:
            if len(self._analysed) > 4 * MAX_ENTRIES:
                self._analysed.clear()
            self._analysed[key] = found
        return found

    def _run(
        self,
        conn: sa.Connection,
        ctx: Context,
        runtime: AppRuntime,
        data: dict[str, Any],
        params: dict[str, Any],
        *,
        strict: bool,
        stale: bool,
        cache: bool = True,
    ) -> dict[str, Any]:
        report, entities = self._saved(runtime, data, stale=stale)
        access = self.platform.access
        permissions.check(access, ctx, runtime, report, table_fields=report.shape == "table")
        today = self.today()
        bound = bind(report, params, today, strict=strict)
        if report.compare and bound.period is None:
            # refused before any query: a dashboard without a period must not scan for nothing
            raise ReportInvalid(
                "report_params_invalid",
                problems=[report_problem("report_compare_needs_period", "/params/period")],
            )
        app = runtime.package.name
        # a saved report is named by its app version and name; its definition cannot change
        # without a new version, so the key need not carry the definition itself
        definition = data["name"] if stale else json.dumps(data, sort_keys=True, ensure_ascii=False)
        key = (app, runtime.version, definition, bound.key(), _scope_identity(ctx, app), ctx.locale[:2])
        if cache:
            hit = self.cache.get(key, app)
            if hit is not None:
                return {**hit, "cached": True}
        generations = self.cache.generations(app, entities)
        rc = self._context(conn, ctx, runtime, report, bound)
        shape = _SHAPES.get(report.shape)
        result = shape(rc) if shape is not None else special.table(rc, access, ctx)
        result["chart"] = chart_hint(report)
        if cache:
            expires = 3600.0
            if bound.relative:
                now = datetime.now(UTC).astimezone(self.zone)
                expires = (next_boundary(now) - now).total_seconds()
            self.cache.put(key, result, generations, expires)
        return {**result, "cached": False}

    def _context(
        self, conn: sa.Connection, ctx: Context, runtime: AppRuntime, report: Report, bound: Bound
    ) -> RunContext:
        access = self.platform.access

        def scope_of(er: EntityRuntime) -> Any:
            return access.row_filter(ctx, conn, er, "read")

        return RunContext(conn, report, runtime, scope_of, bound, self.zone, Labeller(ctx.locale), set())

    def drill(
        self,
        ctx: Context,
        app: str,
        name: str,
        params: dict[str, Any] | None,
        cell: dict[str, Any],
        *,
        measure: str | None = None,
        compare: str | None = None,
    ) -> dict[str, Any]:
        """The records behind one cell of ``name``'s result for this caller and parameters: the
        record list's entity and ``filter`` text (see ``report_engine.drill``)."""
        with self.platform.db.connect() as conn:
            runtime, data = self.definition(conn, app, name)
            report, _entities = self._saved(runtime, data, stale=True)
            permissions.check(
                self.platform.access, ctx, runtime, report, table_fields=report.shape == "table"
            )
            bound = bind(report, params or {}, self.today(), strict=True)
            rc = self._context(conn, ctx, runtime, report, bound)
            text = drill.cell_filter(rc, cell, measure=measure, compare=compare)
        return {
            "entity": report.entity,
            "filter": text,
            "records": f"/api/apps/{quote(app)}/records/{quote(report.entity)}?filter={quote(text)}",
        }

    @staticmethod
    def _entities(runtime: AppRuntime, report: Report) -> set[str]:
        """Every entity a run may read: the source, those its paths pass, and its lookups'
        targets (a DSL filter may read through one)."""
        source = runtime.entity(report.entity)
        found = {report.entity, *source.lookups().values()}
        for path, _pointer, _use in report.paths():
            found.update(path.entities)
        return found

    # -- dashboards ------------------------------------------------------------------------
    def dashboards(self, ctx: Context, app: str) -> dict[str, Any]:
        """The dashboards of ``app`` and the caller's default (the first naming one of their
        roles, or ``everyone``)."""
        with self.platform.db.connect() as conn:
            runtime = self.platform.runtime(conn, app)
        items = self._items(runtime, "dashboards")
        roles = ctx.user.roles_in(app) if ctx.user is not None else frozenset()
        everyone = {r.name for r in runtime.package.roles if r.everyone}
        default = next(
            (
                d["name"]
                for d in items
                if set(d.get("default_for", [])) & (set(roles) | everyone | {"everyone"})
            ),
            items[0]["name"] if items else None,
        )
        listed = [{"name": d["name"], "label": _text(d.get("label"), ctx.locale)} for d in items]
        return {"dashboards": listed, "default": default}

    def dashboard(
        self, ctx: Context, app: str, name: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Every report of the dashboard with the shared filters (the dashboard's, overridden
        by ``params``); a report the caller may not run answers its error in its cell."""
        with self.platform.db.connect() as conn:
            runtime = self.platform.runtime(conn, app)
            board = next((d for d in self._items(runtime, "dashboards") if d["name"] == name), None)
            if board is None:
                raise ReportNotFound("dashboard_not_found", app=app, name=name)
            shared = {**(board.get("filters") or {}), **(params or {})}
            reports = {r["name"]: r for r in self._items(runtime, "reports")}
            cells = []
            for item in board["items"]:
                cell: dict[str, Any] = {k: item[k] for k in ("report", "x", "y", "w", "h")}
                try:
                    data = reports[item["report"]]
                    merged = {**shared, **(item.get("params") or {})}
                    cell["result"] = self._run(conn, ctx, runtime, data, merged, strict=False, stale=True)
                except TangramError as exc:
                    cell["error"] = {
                        "code": exc.code,
                        "status": exc.status,
                        "message": exc.message(ctx.locale),
                    }
                cells.append(cell)
        return {
            "dashboard": name,
            "label": _text(board.get("label"), ctx.locale),
            "filters": shared,
            "items": cells,
        }


def _text(label: Any, locale: str) -> str | None:
    if not label:
        return None
    return str(label["zh"] if locale.startswith("zh") else label["en"])


def _scope_identity(ctx: Context, app: str) -> tuple[Any, ...]:
    """Who the caller is as far as row scopes and field rules go."""
    user = ctx.user
    if user is None:
        return ("system",)
    if user.is_admin:
        return ("admin",)
    return (user.id, user.department_id, tuple(sorted(user.roles_in(app))))


__all__ = ["DASHBOARD", "ReportService"]
