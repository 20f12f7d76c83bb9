"""Public forms: an administrator publishes an entity's form at an unguessable link; anyone may
fill it in, and each submission creates a record as the designated user through the kernel's
write unit (permissions, validation, history and flows apply as to any create).

What the visitor sees is the form and, after submitting, thanks: never a record, an id, a
lookup's titles or a stored value. Submissions are rate-limited per client address and must
carry the page's signed, time-stamped challenge with the honeypot left empty.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from builder_ui import public_store as store
from builder_ui.messages import ERRORS, UI_MESSAGES
from builder_ui.pages import _render
from builder_ui.preferences import LOCALES
from builder_ui.public_challenge import HONEYPOT, Challenge
from engine import (
    AdminDep,
    Context,
    EntityRuntime,
    InvalidInput,
    NotFound,
    OptionalContextDep,
    Platform,
    PlatformDep,
    TangramError,
    TooManyAttempts,
    acting_principal,
    directory,
    form_view,
    public_route,
)
from engine import Conflict as KernelConflict
from form_engine import DEFAULT_FORM, FieldValueError, FormError, Problem, describe_form, normalise_locale

router = APIRouter(tags=["ui"], include_in_schema=False)
LIMIT = store.SubmissionLimit()
#: Field types a stranger may fill in: none that reads other records (lookups and pickers show
#: titles and names), uploads, or values the server computes.
PUBLIC_TYPES = frozenset(
    {
        "text", "long_text", "email", "url", "phone", "cn_mobile", "select", "multi_select", "boolean",
        "integer", "number", "currency", "percent", "rating", "date", "datetime", "time", "tags",
    }
)  # fmt: skip



class PublicFormInvalid(InvalidInput):
    catalogue = ERRORS


class PublicFormNotFound(NotFound):
    catalogue = ERRORS


class PublicFormChallenge(TangramError):
    code = "challenge_failed"
    status = 400
    catalogue = ERRORS


class PublicFormRefused(KernelConflict):
    code = "submission_refused"
    catalogue = ERRORS


class PublicFormRateLimited(TooManyAttempts):
    catalogue = ERRORS


def _challenge(platform: Platform) -> Challenge:
    return Challenge(platform.settings.resolved_secret_key())


def _now() -> datetime:
    return datetime.now(UTC)


def _form_name(er: EntityRuntime, form: str) -> str | None:
    if form == DEFAULT_FORM:
        return None
    if any(f.name == form for f in er.entity.forms):
        return form
    raise PublicFormInvalid("public_form_form_invalid", entity=er.entity.name, form=form)


def _designated(platform: Platform, pf: store.PublicForm, locale: str) -> Context:
    with platform.db.connect() as conn:
        principal = acting_principal(conn, pf.user_id)
    if principal is None:  # the user was disabled since: the form is closed
        raise PublicFormNotFound("public_form_not_found")
    return Context(user=principal, locale=locale, tags={"source": "public_form", "public_form": str(pf.id)})


def public_description(platform: Platform, pf: store.PublicForm, ctx: Context) -> dict[str, Any]:
    """The form as a stranger may see it: the fields of public types that the designated user
    may see unmasked, and no condition reading any other field."""
    runtime = platform.cached_runtime(pf.app)
    er = runtime.entity(pf.entity)
    described = describe_form(er.entity, _form_name(er, pf.form), ctx.locale, runtime.resolve_entity)
    plan = platform.access.field_plan(ctx, er)
    left_out = {
        name
        for name, entry in described["fields"].items()
        if entry["type"] not in PUBLIC_TYPES or name in plan.hidden or name in plan.secret
    }
    return form_view(described, left_out, left_out, er.validator.fields_map)


def _locale(request: Request) -> str:
    """``?lang=`` (the page's language switch), else the browser's Accept-Language."""
    chosen = request.query_params.get("lang")
    return chosen if chosen in LOCALES else normalise_locale(request.headers.get("accept-language"))


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _admit(platform: Platform, request: Request) -> None:
    """Count the attempt (in its own transaction, so a refused one counts too)."""
    with platform.db.begin() as conn:
        admitted = LIMIT.admit(conn, _address(request), _now())
    if not admitted:
        minutes = int(LIMIT.window.total_seconds() // 60)
        raise PublicFormRateLimited("public_form_rate_limited", minutes=minutes)


def _published(platform: Platform, token: str) -> store.PublicForm:
    with platform.db.connect() as conn:
        pf = store.by_token(conn, token)
    if pf is None:
        raise PublicFormNotFound("public_form_not_found")
    return pf


# -- the public side -------------------------------------------------------------------------
@router.get("/ui/public/{token}")
@public_route
def public_page(token: str, request: Request, platform: PlatformDep, ctx: OptionalContextDep) -> Response:
    locale = _locale(request)
    try:
        pf = _published(platform, token)
        description = public_description(platform, pf, _designated(platform, pf, locale))
    except (PublicFormNotFound, KeyError, TangramError):
        page = {"kind": "public_form", "missing": True}
        html = _render(request, platform, None, "public_form.html", page)
        return HTMLResponse(html.body, status_code=404, headers={"Cache-Control": "no-store"})
    page = {
        "kind": "public_form",
        "token": token,
        "description": description,
        "challenge": _challenge(platform).issue(token, _now()),
        "honeypot": HONEYPOT,
    }
    return _render(request, platform, None, "public_form.html", page)


def _coerced(er: EntityRuntime, draft: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in draft.items():
        if name not in allowed or value is None:
            continue
        f = er.entity.field(name)
        try:
            out[name] = f.field_type.coerce(value, f)
        except FieldValueError:
            out[name] = None
    return out


@router.post("/ui/public/{token}/state")
@public_route
def public_state(
    token: str, request: Request, platform: PlatformDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """The live state (visible, required, read-only) of the published fields for a draft."""
    pf = _published(platform, token)
    ctx = _designated(platform, pf, _locale(request))
    allowed = set(public_description(platform, pf, ctx)["fields"])
    draft = body.get("record", {})
    if not isinstance(draft, dict):
        raise PublicFormInvalid("public_form_body_invalid")
    er = platform.cached_runtime(pf.app).entity(pf.entity)
    state = er.validator.field_state(
        _coerced(er, draft, allowed), form=_form_name(er, pf.form), now=_now(), old=None, loader=None
    )
    return {"fields": {k: v for k, v in state.items() if k in allowed}}


@router.post("/ui/public/{token}", status_code=201)
@public_route
def public_submit(
    token: str, request: Request, platform: PlatformDep, body: Annotated[Any, Body()] = None
) -> JSONResponse:
    """``{"values": {...}, "challenge": "...", "website": ""}`` -> 201 with thanks, nothing else."""
    _admit(platform, request)
    pf = _published(platform, token)
    if not isinstance(body, dict) or not isinstance(body.get("values"), dict):
        raise PublicFormInvalid("public_form_body_invalid")
    if not _challenge(platform).passed(token, body.get("challenge"), body.get(HONEYPOT), _now()):
        raise PublicFormChallenge("public_form_challenge_failed")
    locale = _locale(request)
    ctx = _designated(platform, pf, locale)
    allowed = set(public_description(platform, pf, ctx)["fields"])
    values: dict[str, Any] = body["values"]
    stray = [name for name in values if name not in allowed]
    if stray:
        problems = [
            Problem("public_form_field_not_published", field=n, pointer=f"/values/{n}", params={"name": n})
            for n in stray
        ]
        raise PublicFormInvalid("public_form_field_not_published", name=", ".join(stray), problems=problems)
    er = platform.cached_runtime(pf.app).entity(pf.entity)
    try:
        platform.records.create(ctx, pf.app, pf.entity, values, form=_form_name(er, pf.form))
    except (InvalidInput, FormError) as exc:
        # the visitor's own values, field by field; no details (they may name stored records)
        problems = list(getattr(exc, "problems", []))
        raise PublicFormInvalid("public_form_refused", problems=problems) from None
    except TangramError:
        raise PublicFormRefused("public_form_refused") from None
    return JSONResponse({"message": UI_MESSAGES["public_thanks"][locale]}, status_code=201)


# -- administrators --------------------------------------------------------------------------
@router.get("/ui/api/public-forms")
def list_public_forms(ctx: AdminDep, platform: PlatformDep) -> list[dict[str, Any]]:
    with platform.db.connect() as conn:
        return [pf.json() for pf in store.all_forms(conn)]


@router.post("/ui/api/public-forms", status_code=201)
def publish_form(
    ctx: AdminDep, platform: PlatformDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """``{"app", "entity", "form": "default", "user": id or username}``: a new public link."""
    app, entity, form = body.get("app"), body.get("entity"), body.get("form", DEFAULT_FORM)
    if not all(isinstance(x, str) for x in (app, entity, form)):
        raise PublicFormInvalid("public_form_body_invalid")
    try:
        er = platform.cached_runtime(str(app)).entity(str(entity))
    except (TangramError, KeyError):
        raise PublicFormInvalid("public_form_entity_invalid", app=app, entity=entity) from None
    _form_name(er, str(form))
    user = body.get("user")
    with platform.db.begin() as conn:
        found = directory.user_ids(conn, [user]) if isinstance(user, int | str) else []
        if not found:
            raise PublicFormInvalid("public_form_user_invalid", user=user)
        pf = store.publish(conn, str(app), str(entity), str(form), found[0], ctx.user_id, _now())
    return pf.json()


@router.patch("/ui/api/public-forms/{form_id}")
def enable_form(
    form_id: int, ctx: AdminDep, platform: PlatformDep, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """``{"enabled": false}`` unpublishes (the link answers 404); ``true`` publishes again."""
    enabled = body.get("enabled")
    if not isinstance(enabled, bool):
        raise PublicFormInvalid("public_form_enabled_invalid")
    with platform.db.begin() as conn:
        if store.by_id(conn, form_id) is None:
            raise PublicFormNotFound("public_form_not_found")
        store.set_enabled(conn, form_id, enabled)
        pf = store.by_id(conn, form_id)
    assert pf is not None
    return pf.json()
