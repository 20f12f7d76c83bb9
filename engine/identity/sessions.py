"""Browser sessions: the sign-in token in an HttpOnly cookie, plus a CSRF token for writes.

A cookie is sent by the browser whatever page asks, so a request authenticated by cookie that
changes something must also carry ``X-CSRF-Token``: an HMAC of the session token under the
server's secret, which a page on another origin cannot read or compute. Bearer-token clients
are not exposed to CSRF and need no such header.
"""

from __future__ import annotations

import hashlib
import hmac

from engine.errors import Forbidden

SESSION_COOKIE = "tg_session"
#: Readable by the page's script (not HttpOnly) so it can echo it in ``X-CSRF-Token``.
CSRF_COOKIE = "tg_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRejected(Forbidden):
    code = "csrf_failed"


def csrf_token(secret: str, session_token: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def check_csrf(secret: str, session_token: str, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent, csrf_token(secret, session_token)):
        raise CsrfRejected("csrf_token_missing")
