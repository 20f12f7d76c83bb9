"""Request bodies are capped, and a caller with no credentials at all is turned away before
anything they sent is read.

Without this, four 50 MB bodies without a token pushed a server from 76 MB to over 1 GB: the
JSON was parsed in the event loop before authentication ran. A body announced larger than the
cap answers 413 at once; one that grows past it while streaming (chunked) stops there. Uploads
(``POST .../files``, spreadsheet imports) have a cap of their own, and each file field its own size limit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import TangramError, Unauthenticated
from engine.identity.sessions import SESSION_COOKIE

from .problems import error_response, locale_of

_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


#: Routes that take a file: the upload cap applies to them instead of the body cap.
UPLOAD_PATHS = ("/files", "/imports", "/imports/preview")


class BodyTooLarge(TangramError):
    code = "body_too_large"
    status = 413


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        upload_limit: int,
        public: frozenset[str],
        public_patterns: Sequence[re.Pattern[str]] = (),
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.public = public
        #: paths of plugin routes marked public (``engine.public_route``), filled as they mount
        self.public_patterns = public_patterns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit = self.upload_limit if path.endswith(UPLOAD_PATHS) else self.limit
        headers = dict(scope["headers"])
        refusal: TangramError | None = None
        anonymous = b"authorization" not in headers and not _has_session(headers)
        if anonymous and path not in self.public and not any(p.match(path) for p in self.public_patterns):
            refusal = Unauthenticated("sign_in_required")
        else:
            announced = headers.get(b"content-length", b"")
            if announced.isdigit() and int(announced) > limit:
                refusal = BodyTooLarge("body_too_large", limit=limit)
        if refusal is not None:
            request = Request(scope)
            challenge = {"WWW-Authenticate": "Bearer"} if refusal.status == 401 else None
            message = refusal.message(locale_of(request))
            response = error_response(request, refusal.status, refusal.code, message, headers=challenge)
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # FastAPI passes an HTTPException from a body read through
                    raise HTTPException(413, detail=BodyTooLarge("body_too_large", limit=limit).message("en"))
            return message

        await self.app(scope, counted, send)


def _has_session(headers: dict[bytes, bytes]) -> bool:
    return f"{SESSION_COOKIE}=".encode() in headers.get(b"cookie", b"")
