"""The bundled list of Chinese divisions for the browser's 省 / 市 / 区 cascading selects.

Served once as a compact tree and cached by the browser (it changes only with a new release of
the bundled list), so an address or region widget needs no round trip per level. The tree is
read through ``form_engine.regions``, the same list that checks what the widget sends back.
"""

from __future__ import annotations

import functools
import hashlib
import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from engine import public_route
from form_engine import regions

router = APIRouter(tags=["ui"], include_in_schema=False)
PATH = "/ui/data/regions"


def _branch(code: str | None) -> list[list[object]]:
    """``[[code, name, children?], ...]`` below ``code``; a division without any has no third item."""
    out: list[list[object]] = []
    for division in regions.children(code):
        below = _branch(division.code)
        out.append([division.code, division.name, below] if below else [division.code, division.name])
    return out


@functools.cache
def _payload() -> tuple[bytes, str]:
    """The tree as JSON bytes and its entity tag, built once per process."""
    body = json.dumps(_branch(None), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


@router.get(PATH)
@public_route
def region_tree(request: Request) -> Response:
    """Provinces -> cities -> districts as ``[code, name, children?]``; public (a public form's
    address widget needs it too) and cacheable for a day, revalidated by its ETag."""
    body, tag = _payload()
    headers = {"ETag": tag, "Cache-Control": "public, max-age=86400"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
