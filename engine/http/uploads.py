"""Receiving an upload and serving stored bytes, for the kernel's file fields and for plugins
that keep files of their own (attachments of a comment, say).

An upload is typed by its bytes (``engine.records.file_types``), never by what the browser
claims, and stored with its uploader and what it is ``about``: who may later have it is the
caller's rule, decided from that descriptor. A download is sent as a download browsers must not
sniff; only raster images whose bytes were checked are shown inline.
"""

from __future__ import annotations

import itertools
import mimetypes
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from fastapi import UploadFile
from fastapi.responses import FileResponse

from engine.context import Context
from engine.errors import InvalidInput
from engine.messages import both
from engine.records import file_types
from engine.records.file_store import CHUNK, FileStore
from form_engine import FieldValueError, Problem

#: Sent with every download: browsers take the type as given and run nothing in the file.
SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}
#: The OpenAPI request body of an upload route (one multipart ``file``).
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        }
    },
}
#: The descriptor fields a record or a log keeps of a stored file.
DESCRIPTOR_KEYS = ("id", "name", "size", "content_type")


def _chunks(upload: UploadFile, limit: int) -> Iterator[bytes]:
    """The upload's bytes, stopping one byte past ``limit`` (enough to know it is too big)."""
    read = 0
    while read <= limit:
        chunk = upload.file.read(min(CHUNK, limit + 1 - read))
        if not chunk:
            return
        read += len(chunk)
        yield chunk


def receive_upload(
    store: FileStore,
    app: str,
    ctx: Context,
    file: UploadFile,
    *,
    max_size: int,
    accept: list[str],
    about: Mapping[str, Any],
    check: Callable[[dict[str, Any]], None] | None = None,
    label: object = None,
) -> dict[str, Any]:
    """Store ``file`` for ``app``; its descriptor (``DESCRIPTOR_KEYS``). Refused (422, the stored
    bytes removed) when it is over ``max_size`` bytes, not of a type ``accept`` allows (empty: any),
    or when ``check(descriptor)`` raises a ``FieldValueError``. ``label`` (zh/en, or a field's
    label) names what the file was for in the refusal; the file's name does by default."""
    name = (file.filename or "file").strip() or "file"
    claim = (file.content_type or "").lower()
    if not claim or claim == "application/octet-stream":
        claim = mimetypes.guess_type(name)[0] or "application/octet-stream"
    chunks = _chunks(file, max_size)
    head = next(chunks, b"")
    content_type = file_types.stored_type(claim, head[: file_types.HEAD])
    stored = store.save(
        app,
        itertools.chain([head], chunks),
        {"name": name, "content_type": content_type, **about, "uploader": ctx.user_id},
    )
    descriptor = {k: stored[k] for k in DESCRIPTOR_KEYS}
    try:
        if stored["size"] > max_size:
            raise FieldValueError("file_too_large", name=name, size=stored["size"], max=max_size)
        if not file_types.accepted(accept, name, content_type):
            accept_text = ", ".join(accept)
            raise FieldValueError("file_type_not_allowed", name=name, content_type=claim, accept=accept_text)
        if check is not None:
            check(descriptor)
    except FieldValueError as exc:
        store.remove(app, stored["id"])
        params = {**exc.params, "label": both(label if label is not None else name)}
        refused = Problem(exc.problem_code, field=about.get("field"), pointer="/file", params=params)
        raise InvalidInput("file_rejected", problem=refused, problems=[refused]) from None
    return descriptor


def file_download(path: Path, descriptor: Mapping[str, Any]) -> FileResponse:
    """The stored bytes as a response: inline only for raster images, else an attachment."""
    content_type = descriptor["content_type"]
    return FileResponse(
        path,
        media_type=content_type,
        filename=descriptor["name"],
        headers=SAFE_HEADERS,
        content_disposition_type="inline" if content_type in file_types.INLINE else "attachment",
    )
