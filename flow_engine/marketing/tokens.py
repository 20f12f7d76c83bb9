"""Tracking tokens: a random part and its HMAC-SHA256 signature under the installation's secret.

The random part alone is unguessable; the signature lets the tracking routes refuse a forged or
mistyped token before touching the database, so nothing can be enumerated through them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_PURPOSE = b"tangram-marketing-track:"


def _signature(secret: str, nonce: str) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def token_of(secret: str, nonce: str) -> str:
    """The token of a stored nonce, as it goes in the e-mail."""
    return f"{nonce}.{_signature(secret, nonce)}"


def new_nonce() -> str:
    """A fresh random nonce (144 bits), stored with the message."""
    return secrets.token_urlsafe(18)


def verified_nonce(secret: str, token: str) -> str | None:
    """The nonce of a token signed with ``secret``; None for anything else."""
    nonce, dot, signature = token.partition(".")
    if not dot or not nonce or len(token) > 100:
        return None
    if not hmac.compare_digest(signature.encode(), _signature(secret, nonce).encode()):
        return None
    return nonce
