"""Answers for what went wrong on the server's side, without dropping the connection.

Starlette's outermost ``ServerErrorMiddleware`` answers an unhandled exception and then raises
it again, and the ASGI server closes the keep-alive connection on that: the client's next
request on it fails too. :class:`AnswerServerErrors` sits inside it, answers the 500 in the
platform's error shape, logs it, and does not raise, so the connection stays usable.

A database error whose cause is the request's own arithmetic (a product past BIGINT, a date
past the calendar) is the caller's: a 422, not a 500. A database too busy to answer in time
(SQLite's write lock held past the busy timeout, a PostgreSQL deadlock or lock timeout) is a
503 with ``Retry-After``: the request changed nothing and may be sent again.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import InvalidInput
from engine.messages import render

from .problems import error_response, locale_of, request_id_of, tangram_error_response

log = logging.getLogger("tangram.http")

#: PostgreSQL SQLSTATEs of values out of range: numeric, datetime and interval overflow.
_OUT_OF_RANGE_STATES = frozenset({"22003", "22008", "22015"})
#: PostgreSQL SQLSTATEs of a transaction that lost a race for locks: serialization failure,
#: deadlock, lock not available (lock_timeout), query canceled (statement_timeout).
_BUSY_STATES = frozenset({"40001", "40P01", "55P03", "57014"})
#: Seconds a client is asked to wait before sending a request the database was too busy for.
RETRY_AFTER = 5


def out_of_range(exc: sa.exc.DBAPIError) -> bool:
    """Whether the database refused a value it cannot represent (not a fault of ours)."""
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return state in _OUT_OF_RANGE_STATES
    return isinstance(exc, sa.exc.OperationalError) and "integer overflow" in str(exc.orig)


def busy(exc: sa.exc.DBAPIError) -> bool:
    """Whether the database gave up waiting for a lock (the request may be retried)."""
    state = getattr(exc.orig, "sqlstate", None)
    if state is not None:
        return state in _BUSY_STATES
    return isinstance(exc, sa.exc.OperationalError) and "database is locked" in str(exc.orig)


def server_error(request: Request, exc: BaseException) -> JSONResponse:
    log.error(
        "unexpected error in request %s %s %s",
        request_id_of(request),
        request.method,
        request.url.path,
        exc_info=exc,
    )
    text = render("internal_error", locale_of(request), {"request_id": request_id_of(request)})
    return error_response(request, 500, "internal_error", text)


class AnswerServerErrors:
    """Turns an exception no handler took into a 500 in the error shape, keeping the
    connection (when the answer had already begun, nothing can be said: it is raised)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except Exception as exc:
            if started:
                raise
            await server_error(Request(scope), exc)(scope, receive, send)


def install(app: FastAPI) -> None:
    """The last resort for every request: database refusals of the caller's values as 422,
    anything else as a 500 that keeps the connection."""

    @app.exception_handler(sa.exc.DBAPIError)
    async def _database(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        if out_of_range(exc):
            return tangram_error_response(request, InvalidInput("value_out_of_range"))
        if busy(exc):
            log.warning("database busy in request %s: %s", request_id_of(request), exc.orig)
            text = render("database_busy", locale_of(request), {"seconds": RETRY_AFTER})
            return error_response(
                request, 503, "database_busy", text, headers={"Retry-After": str(RETRY_AFTER)}
            )
        return server_error(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return server_error(request, exc)  # reached only from outside AnswerServerErrors

    app.add_middleware(AnswerServerErrors)
