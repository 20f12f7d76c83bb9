"""Files over HTTP: upload for a file field (its size and type limits apply), download."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse

from engine.errors import InvalidInput, NotFound
from engine.messages import both, problem
from engine.records.file_store import CHUNK
from engine.records.steps.files import FILE_TYPES
from form_engine import FieldValueError, FileConfig, Problem, SignatureConfig

from .deps import ContextDep, PlatformDep

router = APIRouter(tags=["files"])
BASE = "/api/apps/{app}/files"


def _chunks(upload: UploadFile, limit: int) -> Iterator[bytes]:
    """The upload's bytes, stopping one byte past ``limit`` (enough to know it is too big)."""
    read = 0
    while read <= limit:
        chunk = upload.file.read(min(CHUNK, limit + 1 - read))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


@router.post(BASE, status_code=201)
def upload_file(
    app: str,
    ctx: ContextDep,
    platform: PlatformDep,
    file: Annotated[UploadFile, File(description="The file (multipart/form-data)")],
    entity: Annotated[str, Query(description="Entity of the file field")],
    field: Annotated[str, Query(description="The attachment, image or signature field")],
) -> dict[str, Any]:
    """Store a file for ``entity.field``; returns the descriptor to put in the record."""
    er = platform.cached_runtime(app).entity(entity)
    platform.access.require(ctx, er, "create")
    f = er.entity.field(field) if field in er.entity.field_names else None
    if f is None or f.type not in FILE_TYPES:
        types = ", ".join(FILE_TYPES)
        raise InvalidInput(
            "not_a_file_field",
            entity=entity,
            field=field,
            types=types,
            problems=[problem("not_a_file_field", pointer="/field", name=field, types=types)],
        )
    name = (file.filename or "file").strip() or "file"
    content_type = (file.content_type or "").lower()
    if not content_type or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    store = platform.files
    config = f.config_as(SignatureConfig) if f.type == "signature" else f.config_as(FileConfig)
    limit = config.max_size
    stored = store.save(
        app, _chunks(file, limit), {"name": name, "content_type": content_type, "entity": entity}
    )
    descriptor = {k: stored[k] for k in ("id", "name", "size", "content_type")}
    try:
        f.field_type.coerce(descriptor if f.type == "signature" else [descriptor], f)
    except FieldValueError as exc:
        store.remove(app, stored["id"])
        params = {**exc.params, "label": both(f.label)}
        refused = Problem(exc.problem_code, field=field, pointer="/file", params=params)
        raise InvalidInput("file_rejected", problem=refused, problems=[refused]) from None
    return descriptor


@router.get(BASE + "/{file_id}")
def download_file(app: str, file_id: str, ctx: ContextDep, platform: PlatformDep) -> FileResponse:
    """The file's bytes; the caller must be able to read the entity it was uploaded for."""
    runtime = platform.cached_runtime(app)  # an unknown app is a 404 before the disk is touched
    path, descriptor = platform.files.path(app, file_id)
    # A file whose entity is gone has no reader left to check against: only admins get it.
    entity = runtime.entities.get(descriptor.get("entity", ""))
    if entity is not None:
        platform.access.require(ctx, entity, "read")
    elif ctx.user is None or not ctx.user.is_admin:
        raise NotFound("file_not_found", file_id=file_id, app=app)
    return FileResponse(path, media_type=descriptor["content_type"], filename=descriptor["name"])
