"""Spreadsheet imports and list exports over HTTP.

An import is checked when it is created (file readable, mapping sound), then runs in the
background; its progress, result and error file are read back by id. A dry run answers at once
with what would happen and every row that would fail, and writes nothing.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, UploadFile
from fastapi.responses import Response

from engine.context import Context
from engine.errors import InvalidInput
from engine.messages import problem
from engine.records import import_jobs
from engine.records.exporter import MEDIA_TYPES, export_records

from .deps import ContextDep, IdPath, PlatformDep

router = APIRouter(tags=["imports"])

Policy = Literal["skip", "update", "create"]


def _mapping(text: str | None) -> dict[str, str] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        found = problem("import_mapping_shape", pointer="/mapping")
        raise InvalidInput("import_mapping_invalid", count=1, problems=[found])
    return value


@router.post("/api/apps/{app}/imports/preview")
def preview_import(
    app: str,
    ctx: ContextDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, GB18030) or XLSX")],
    entity: Annotated[str, Form()],
) -> dict[str, Any]:
    """The file's columns, the guessed (or last saved) column -> field mapping, a few rows."""
    content = file.file.read()
    found = import_jobs.preview(platform.records, app, entity, content, file.filename or "import.csv")
    return found.to_json()


@router.post("/api/apps/{app}/imports", status_code=202)
def create_import(
    app: str,
    ctx: ContextDep,
    platform: PlatformDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, GB18030) or XLSX")],
    entity: Annotated[str, Form()],
    mapping: Annotated[str | None, Form(description='JSON {"column": "field"}; guessed when absent')] = None,
    on_duplicate: Annotated[Policy, Form()] = "skip",
    dry_run: Annotated[bool, Form()] = False,
) -> Any:
    """Start an import (202, then poll ``GET /api/imports/{id}``), or with ``dry_run`` answer what
    it would do and every row that would fail, writing nothing."""
    content = file.file.read()
    name = file.filename or "import.csv"
    columns = _mapping(mapping)
    if dry_run:
        tally, errors = import_jobs.dry_run(
            platform.records, ctx, app, entity, content, name, mapping=columns, on_duplicate=on_duplicate
        )
        body = {
            "dry_run": True,
            "tally": {**tally.__dict__, "failed": len(errors)},
            "errors": [
                {"row": e.row, "problems": [p.to_dict(ctx.locale) for p in e.problems]} for e in errors
            ],
        }
        return Response(json.dumps(body, ensure_ascii=False), status_code=200, media_type="application/json")
    import_id = import_jobs.create_import(
        platform.records, ctx, app, entity, content, name, mapping=columns, on_duplicate=on_duplicate
    )
    background.add_task(_run, platform.records, ctx, import_id)
    with platform.db.connect() as conn:
        return import_jobs.load_import(conn, ctx, import_id)


def _run(records: Any, ctx: Context, import_id: int) -> None:
    """In the background: a failure is stored on the import (status ``failed``) for its poller."""
    try:
        import_jobs.run_import(records, ctx, import_id)
    except Exception:
        import logging

        logging.getLogger("tangram.imports").exception("import %s stopped", import_id)


@router.get("/api/imports/{import_id}")
def read_import(import_id: IdPath, ctx: ContextDep, platform: PlatformDep) -> dict[str, Any]:
    """Status, rows processed of the total, created / updated / skipped / failed counts."""
    with platform.db.connect() as conn:
        return import_jobs.load_import(conn, ctx, import_id)


@router.post("/api/imports/{import_id}/resume", status_code=202)
def resume_import(
    import_id: IdPath, ctx: ContextDep, platform: PlatformDep, background: BackgroundTasks
) -> dict[str, Any]:
    """Continue an import that stopped (a crash, a failed batch after fixing data) where it was."""
    with platform.db.connect() as conn:
        current = import_jobs.load_import(conn, ctx, import_id)
    background.add_task(_run, platform.records, ctx, import_id)
    return current


@router.get("/api/imports/{import_id}/errors")
def import_errors(import_id: IdPath, ctx: ContextDep, platform: PlatformDep) -> Response:
    """The refused rows as CSV, with an errors column: fix them and import the file again."""
    with platform.db.connect() as conn:
        content = import_jobs.error_file(conn, ctx, import_id)
    headers = {"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'}
    return Response(content, media_type=MEDIA_TYPES["csv"], headers=headers)


@router.get("/api/apps/{app}/records/{entity}/export")
def export_list(
    app: str,
    entity: str,
    ctx: ContextDep,
    platform: PlatformDep,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
    filter: Annotated[str | None, Query(max_length=4000)] = None,
    sort: Annotated[str | None, Query(max_length=1000)] = None,
    q: Annotated[str | None, Query(max_length=1000)] = None,
    columns: Annotated[str | None, Query(max_length=4000)] = None,
) -> Response:
    """The list (its filter, sort and keyword search) as a file, with the chosen ``columns``
    (comma-separated field names, in order) or every column the caller sees; the caller's field
    rules apply, masked stays masked."""
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    content, name = export_records(
        platform.records, ctx, app, entity, format, filter=filter, sort=sort, q=q, columns=chosen
    )
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=MEDIA_TYPES[format], headers=headers)
