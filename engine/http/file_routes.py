"""Files over HTTP: upload for a file field (its size and type limits apply), download.

An upload is typed by its bytes (``engine.records.file_types``) and bound to its uploader and
entity; a download is served only to someone who may have the file
(``engine.records.file_access``), as a download (``Content-Disposition: attachment``) that
browsers must not sniff; only raster images whose bytes were checked are shown inline.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import FileResponse

from engine.errors import Forbidden, InvalidInput, NotFound
from engine.messages import problem
from engine.records.file_access import FILE_TYPES, may_have
from form_engine import FileConfig, SignatureConfig

from .deps import ContextDep, PlatformDep
from .uploads import file_download, receive_upload

router = APIRouter(tags=["files"])
BASE = "/api/apps/{app}/files"


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
    config = f.config_as(SignatureConfig) if f.type == "signature" else f.config_as(FileConfig)

    def as_value(descriptor: dict[str, Any]) -> None:
        f.field_type.coerce(descriptor if f.type == "signature" else [descriptor], f)

    return receive_upload(
        platform.files,
        app,
        ctx,
        file,
        max_size=config.max_size,
        accept=config.accept,
        about={"entity": entity, "field": field},
        check=as_value,
        label=f.label,
    )


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
    return file_download(path, descriptor)
