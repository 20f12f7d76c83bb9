"""Files over HTTP: upload for a file field (its size and type limits apply), download.

An upload is typed by its bytes (``engine.records.file_types``) and bound to its uploader and
entity; a download is served only to someone who may have the file
(``engine.records.file_access``), as a download (``Content-Disposition: attachment``) that
browsers must not sniff; only raster images whose bytes were checked are shown inline.
"""

from __future__ import annotations

import itertools
import mimetypes
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.messages import both, problem
from engine.records import file_types
from engine.records.file_access import FILE_TYPES, may_have
from engine.records.file_store import CHUNK
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
    """Store a file for ``entity.field``; returns the descriptor to put in the record. The
    caller must be able to write the field on a new or an existing record."""
    er = platform.cached_runtime(app).entity(entity)
    try:
        platform.access.require(ctx, er, "create")
    except Forbidden:
        platform.access.require(ctx, er, "update")
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
    platform.access.check_write(ctx, er, {field: None}, "create")
    name = (file.filename or "file").strip() or "file"
    claim = (file.content_type or "").lower()
    if not claim or claim == "application/octet-stream":
        claim = mimetypes.guess_type(name)[0] or "application/octet-stream"
    store = platform.files
    config = f.config_as(SignatureConfig) if f.type == "signature" else f.config_as(FileConfig)
    chunks = _chunks(file, config.max_size)
    head = next(chunks, b"")
    content_type = file_types.stored_type(claim, head[: file_types.HEAD])
    about = {"name": name, "content_type": content_type, "entity": entity, "field": field}
    stored = store.save(app, itertools.chain([head], chunks), {**about, "uploader": ctx.user_id})
    descriptor = {k: stored[k] for k in ("id", "name", "size", "content_type")}
    try:
        if not file_types.accepted(config.accept, name, content_type):
            accept = ", ".join(config.accept)
            raise FieldValueError("file_type_not_allowed", name=name, content_type=claim, accept=accept)
        f.field_type.coerce(descriptor if f.type == "signature" else [descriptor], f)
    except FieldValueError as exc:
        store.remove(app, stored["id"])
        params = {**exc.params, "label": both(f.label)}
        refused = Problem(exc.problem_code, field=field, pointer="/file", params=params)
        raise InvalidInput("file_rejected", problem=refused, problems=[refused]) from None
    return descriptor


#: Sent with every download: browsers take the type as given and run nothing in the file.
_SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


@router.get(BASE + "/{file_id}")
def download_file(app: str, file_id: str, ctx: ContextDep, platform: PlatformDep) -> FileResponse:
    """The file's bytes, to someone who may have them (a reader of a record holding the file
    in a field shown to them; its uploader while no record holds it); otherwise 404, so file
    ids cannot be probed."""
    runtime = platform.cached_runtime(app)  # an unknown app is a 404 before the disk is touched
    path, descriptor = platform.files.path(app, file_id)
    with platform.db.connect() as conn:
        allowed = may_have(conn, platform.access, ctx, runtime, descriptor, as_uploader=False)
    if not allowed:
        raise NotFound("file_not_found", file_id=file_id, app=app)
    content_type = descriptor["content_type"]
    return FileResponse(
        path,
        media_type=content_type,
        filename=descriptor["name"],
        headers=_SAFE_HEADERS,
        content_disposition_type="inline" if content_type in file_types.INLINE else "attachment",
    )
