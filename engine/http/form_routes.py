"""Forms over HTTP: which forms an entity has, how to render one, and its live field state.

The UI renders a form from its description (no field-type code in the browser) and, when a
field listed in ``depends_on`` changes, asks ``/state`` which fields are visible, required
and read-only for the draft. The server enforces the same conditions on save.

Field rules hold here too: a caller is not shown fields hidden from them, nor conditions that
read a field they may not see (its name or a threshold on it), and the state is computed as if
such fields were empty, so it tells nothing about their values.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from engine.apps.runtime import EntityRuntime
from engine.clock import utcnow
from engine.errors import InvalidInput, NotFound
from engine.records.loader import record_loader
from form_engine import DEFAULT_FORM, FieldValueError, describe_form

from .deps import ContextDep, PlatformDep
from .form_view import form_view

router = APIRouter(tags=["forms"])
BASE = "/api/apps/{app}/forms/{entity}"


def _form_name(er: EntityRuntime, form: str) -> str | None:
    if any(f.name == form for f in er.entity.forms):
        return form
    if form == DEFAULT_FORM:
        return None
    choices = ", ".join([DEFAULT_FORM, *(f.name for f in er.entity.forms)])
    entity = {"zh": er.entity.label.zh, "en": er.entity.name}
    raise NotFound("form_not_found", entity=entity, form=form, choices=choices)


@router.get(BASE)
def list_forms(app: str, entity: str, ctx: ContextDep, platform: PlatformDep) -> list[dict[str, Any]]:
    """The entity's forms; ``default`` (every field) is always there."""
    er = platform.cached_runtime(app).entity(entity)
    platform.access.require(ctx, er, "read")
    forms = [{"name": DEFAULT_FORM, "label": er.entity.label.text(ctx.locale)}]
    forms += [{"name": f.name, "label": f.label.text(ctx.locale)} for f in er.entity.forms]
    return forms


@router.get(BASE + "/{form}")
def get_form(app: str, entity: str, form: str, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """How to render the form, in the caller's language (Accept-Language)."""
    runtime = platform.cached_runtime(app)
    er = runtime.entity(entity)
    platform.access.require(ctx, er, "read")
    described = describe_form(er.entity, _form_name(er, form), ctx.locale, runtime.resolve_entity)
    plan = platform.access.field_plan(ctx, er)
    return form_view(described, plan.hidden, plan.secret, er.validator.fields_map)


def _draft_values(er: EntityRuntime, draft: dict[str, Any]) -> dict[str, Any]:
    """Draft values as Python values; a value that does not coerce yet counts as empty."""
    out: dict[str, Any] = {}
    for name, value in draft.items():
        if name not in er.entity.field_names or value is None:
            continue
        f = er.entity.field(name)
        try:
            out[name] = f.field_type.coerce(value, f)
        except FieldValueError:
            out[name] = None
    return out


@router.post(BASE + "/{form}/state")
def form_state(
    app: str,
    entity: str,
    form: str,
    ctx: ContextDep,
    platform: PlatformDep,
    body: Annotated[dict[str, Any], Body()],
) -> dict[str, Any]:
    """``{"record": {...draft...}, "id": 12?}`` -> ``{"fields": {name: {visible, required,
    readonly}}}``; with ``id`` the draft is laid over that stored record (an edit form).
    Fields the caller may not see count as empty and are left out of the answer."""
    draft = body.get("record", {})
    record_id = body.get("id")
    if not isinstance(draft, dict) or (record_id is not None and type(record_id) is not int):
        raise InvalidInput("form_state_body_invalid")
    with platform.db.connect() as conn:
        runtime = platform.runtime(conn, app)
        er = runtime.entity(entity)
        platform.access.require(ctx, er, "read")
        name = _form_name(er, form)
        plan = platform.access.field_plan(ctx, er)
        secret = plan.secret
        old = platform.records.get(ctx, app, entity, record_id) if record_id is not None else None
        if old is not None and secret:
            old = {k: None if k in secret else v for k, v in old.items()}
        shown = {k: v for k, v in draft.items() if k not in secret}
        record = {**(old or {}), **_draft_values(er, shown)}
        state = er.validator.field_state(
            record,
            form=name,
            now=utcnow(),
            old=old,
            loader=record_loader(conn, runtime, er, ctx, platform.access),
        )
    return {"form": form, "fields": {k: v for k, v in state.items() if k not in plan.hidden}}
