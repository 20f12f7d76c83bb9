"""Posting JSON to another system, and the HMAC signatures that let it trust us.

Plain ``urllib`` on purpose: one POST with a timeout needs no HTTP client dependency. A
non-2xx answer or a network error raises, which the job runner turns into a retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from typing import Any

#: Seconds to wait for the other side; a job's transaction stays open meanwhile.
TIMEOUT = 10.0


def json_bytes(body: Any) -> bytes:
    """The exact bytes sent and signed: compact, keys sorted, UTF-8 (Chinese as is)."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    """``X-Tangram-Signature``: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def post_json(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """POST ``body`` as JSON; the status and the answer's bytes (an HTTP error raises)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Tangram",
            **(headers or {}),
        },
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        return int(answer.status), answer.read()
