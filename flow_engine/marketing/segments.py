"""Dynamic segments: a saved rule over an entity, the ``segments`` section of the app package.

``{"name": "a_not_b", "entity": "account", "rule": "any(order_line via account: product == 'A')
and none(order_line via account: product == 'B')"}``. The rule is checked when the package is
saved (quantifiers included); members are read through the kernel's record list, so a caller
sees only the members they may read, and quantifiers count only related rows they may read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import rule_engine
from engine import AppPackage, Context, PackageSection, Page, Platform, load_app
from flow_engine.marketing.messages import MarketingNotFound
from flow_engine.registry import runner_of
from form_engine import Problem, dsl_fields, dsl_relations

SECTION = "segments"
PAGE = 500

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,49}$"},
        "label": {
            "type": "object",
            "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
            "required": ["zh", "en"],
            "additionalProperties": False,
        },
        "entity": {"type": "string"},
        "rule": {"type": "string", "minLength": 1, "maxLength": rule_engine.MAX_TEXT_LENGTH},
    },
    "required": ["name", "entity", "rule"],
    "additionalProperties": False,
}


def check(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    """Unique names, a known entity, and a rule that compiles against it (with line/column)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item["name"]
        if name in seen:
            problems.append(Problem("segment_duplicate", pointer=f"/{i}/name", params={"name": name}))
        seen.add(name)
        if not package.has_entity(item["entity"]):
            params = {"entity": item["entity"]}
            problems.append(Problem("segment_entity_unknown", pointer=f"/{i}/entity", params=params))
            continue
        entity = package.entity(item["entity"])
        resolve = _resolver(package)
        try:
            rule_engine.compile(
                item["rule"],
                dsl_fields(entity, resolve),
                expect="boolean",
                relations=dsl_relations(entity, package.entities, resolve),
            )
        except rule_engine.RuleError as exc:
            problems.append(
                Problem(
                    "segment_rule",
                    pointer=f"/{i}/rule",
                    params={"detail": str(exc)},
                    line=exc.line,
                    column=exc.column,
                )
            )
    return problems


def _resolver(package: AppPackage) -> Any:
    return lambda name: package.entity(name) if package.has_entity(name) else None


def section() -> PackageSection:
    return PackageSection(SECTION, ITEM_SCHEMA, check, "Dynamic segments: saved rules over an entity")


def segment(platform: Platform, app: str, name: str) -> dict[str, Any]:
    """The segment's definition, or 404."""
    with platform.db.connect() as conn:
        package = load_app(conn, app).package
    found = next((s for s in package.section(SECTION) if s.get("name") == name), None)
    if found is None:
        raise MarketingNotFound("segment_not_found", app=app, segment=name)
    return found


def members(
    platform: Platform,
    ctx: Context,
    app: str,
    name: str,
    *,
    limit: int | None = None,
    offset: int | None = None,
    sort: str | None = None,
) -> tuple[dict[str, Any], Page]:
    """A page of the members ``ctx`` may read, through the kernel's record list; the rule's
    ``now()`` is the flow engine's clock, the one journeys wait on."""
    found = segment(platform, app, name)
    now = runner_of(platform).clock()
    page = platform.records.list_records(
        ctx, app, found["entity"], filter=found["rule"], limit=limit, offset=offset, sort=sort, now=now
    )
    return found, page


def member_ids(platform: Platform, ctx: Context, app: str, name: str) -> Iterator[int]:
    """Every member's id, a page at a time, in id order."""
    offset = 0
    while True:
        _found, page = members(platform, ctx, app, name, limit=PAGE, offset=offset, sort="id")
        yield from (int(r["id"]) for r in page.items)
        offset += PAGE
        if offset >= page.total:
            return
