"""Apps installed from a bundled template, and upgrading them to a newer template version.

Installing records which template and version an app came from, with that version's package
(``tg_app_templates``). An upgrade merges three documents: that recorded base, the new template
version and the app as the admin has changed it (:mod:`engine.apps.package_merge`), applies the
result through :func:`~engine.apps.package_apply.apply_package` (one versioned step, the same
migrations and refusals as any apply) and moves the recorded base to the new version, so the
next upgrade merges against what this one brought.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

import templates_library
from engine.apps.metadata_store import AppPackage, import_app, load_app
from engine.apps.package import parse_package
from engine.apps.package_apply import Applied, apply_package
from engine.apps.package_merge import MISSING, SIDES, Merged, Side, escape, merge_packages
from engine.clock import iso, utcnow
from engine.context import Context
from engine.errors import Conflict, InvalidInput, InvalidPackage, NotFound
from engine.messages import name_list, phrase, problem
from engine.schema import system_tables as st
from form_engine import Problem

_T = st.app_templates


def load_template(name: str) -> tuple[dict[str, Any], str]:
    """A bundled template's package and version, or NotFound naming the bundled ones."""
    try:
        return templates_library.load(name), templates_library.version(name)
    except templates_library.TemplateNotFound as exc:
        raise NotFound("template_not_found", template=name, known=name_list(exc.known)) from None


def install_template(conn: sa.Connection, name: str, ctx: Context) -> AppPackage:
    """Install bundled template ``name`` as a new app and record where it came from."""
    document, version = load_template(name)
    package = import_app(conn, document, ctx)
    now = utcnow()
    conn.execute(
        _T.insert().values(
            app=package.name,
            template=name,
            template_version=version,
            base=package.export(),
            installed_at=now,
            updated_at=now,
        )
    )
    return package


def origin(conn: sa.Connection, app: str, *, with_base: bool = False) -> dict[str, Any]:
    """Which template and version the app came from (409 for an app not installed from one)."""
    load_app(conn, app)
    row = conn.execute(sa.select(_T).where(_T.c.app == app)).first()
    if row is None:
        raise Conflict("app_not_from_template", app=app)
    answer = {
        "app": app,
        "template": row.template,
        "template_version": row.template_version,
        "installed_at": iso(row.installed_at),
        "updated_at": iso(row.updated_at),
    }
    if with_base:
        answer["base"] = dict(row.base)
    return answer


def content_version(document: Any) -> str:
    """A version for a template given as a document without one: its content's hash."""
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass
class Upgrade:
    """What an upgrade did (or, in a dry run, would do)."""

    origin: dict[str, Any]
    to_version: str
    merged: Merged
    dry_run: bool
    applied: Applied | None = None
    #: in a dry run: why the merged package would not be accepted
    problems: list[Problem] = field(default_factory=list)

    def as_json(self, locale: str = "en") -> dict[str, Any]:
        answer: dict[str, Any] = {
            "app": self.origin["app"],
            "template": self.origin["template"],
            "from_template_version": self.origin["template_version"],
            "to_template_version": self.to_version,
            "dry_run": self.dry_run,
            "conflicts": [c.as_json() for c in self.merged.conflicts],
            "resolved": [c.as_json() for c in self.merged.resolved],
            "taken": self.merged.taken,
            "kept": self.merged.kept,
        }
        if self.applied is not None:
            answer |= {k: v for k, v in self.applied.as_json().items() if k not in ("app", "dry_run")}
        if self.problems:
            answer["problems"] = [p.to_dict(locale) for p in self.problems]
        if self.dry_run:
            blocked = self.merged.conflicts or self.problems or not answer.get("would_apply", True)
            answer["would_apply"] = not blocked
        return answer


def _short(value: Any) -> Any:
    """A side's value as a conflict's message shows it (JSON, cut short)."""
    if value is MISSING:
        return phrase("merge.removed")
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def check_resolutions(resolutions: Mapping[str, Any]) -> dict[str, Side]:
    """The resolutions as pointer -> side, or 422 listing every one that is not."""
    found: list[Problem] = []
    for pointer, side in resolutions.items():
        at = f"/resolutions/{escape(pointer)}"
        if pointer and not pointer.startswith("/"):
            found.append(problem("resolution_pointer", pointer=at, value=pointer))
        elif side not in SIDES:
            found.append(problem("resolution_side", pointer=at, value=side))
    if found:
        raise InvalidInput("resolutions_invalid", count=len(found), problems=found)
    return {p: s for p, s in resolutions.items()}


def upgrade_app(
    conn: sa.Connection,
    app: str,
    ctx: Context,
    *,
    document: Any = None,
    version: str | None = None,
    resolutions: Mapping[str, Any] | None = None,
    confirm: Collection[str] = (),
    dry_run: bool = False,
) -> Upgrade:
    """Merge the new template version (``document``, by default the bundled one) into the app.
    Refused with 409 and every conflict while conflicts are unresolved, except in a dry run,
    which lists them with the rest of the plan."""
    came_from = origin(conn, app, with_base=True)
    if document is None:
        document, bundled = load_template(came_from["template"])
        version = version or bundled
    elif version is None:
        version = content_version(document)
    if not isinstance(document, dict):
        raise InvalidPackage(
            "package_invalid", count=1, problems=[problem("schema", pointer="/", detail="not an object")]
        )
    theirs = parse_package({**document, "name": app}).export()
    base = {**came_from.pop("base"), "name": app}
    ours = load_app(conn, app).package.export()
    merged = merge_packages(base, theirs, ours, check_resolutions(resolutions or {}))
    if merged.unused:
        found = [
            problem("resolution_unused", pointer=f"/resolutions/{escape(p)}", value=p) for p in merged.unused
        ]
        raise InvalidInput("resolutions_invalid", count=len(found), problems=found)
    if merged.conflicts and not dry_run:
        raise Conflict(
            "upgrade_conflicts",
            count=len(merged.conflicts),
            problems=[
                problem("merge_conflict", pointer=c.pointer, ours=_short(c.ours), theirs=_short(c.theirs))
                for c in merged.conflicts
            ],
            details={"conflicts": [c.as_json() for c in merged.conflicts]},
        )
    result = Upgrade(came_from, version, merged, dry_run)
    note = f"upgrade {came_from['template']} {came_from['template_version']} -> {version}"
    try:
        result.applied = apply_package(
            conn, app, merged.document, ctx, confirm=confirm, dry_run=dry_run, note=note
        )
    except InvalidPackage as exc:
        if not dry_run:
            raise
        result.problems = exc.problems
    if not dry_run:
        conn.execute(
            _T.update()
            .where(_T.c.app == app)
            .values(template_version=version, base=theirs, updated_at=utcnow())
        )
    return result
