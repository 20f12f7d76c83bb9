"""Password hashing with scrypt (memory-hard, in the standard library).

The work factor comes from the caller (``Settings.password_hash_cost``); every hash records its
own parameters, so verifying never depends on the setting and raising it locks nobody out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from engine.settings import DEFAULT_COST, MAX_COST, MIN_COST

__all__ = ["DEFAULT_COST", "MAX_COST", "MIN_COST", "hash_password", "unusable_hash", "verify_password"]
_R, _P = 8, 1
#: OpenSSL needs 128 * r * (N + p + 2) bytes; a stored hash asking for more than the strongest
#: setting does (a tampered row) is refused instead of exhausting memory.
_MAXMEM = 128 * _R * (2**MAX_COST + _P + 2) + 1024 * 1024


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM)


def _encode(n: int, salt: bytes, digest: bytes) -> str:
    return f"scrypt${n}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def hash_password(password: str, *, cost: int = DEFAULT_COST) -> str:
    if not MIN_COST <= cost <= MAX_COST:
        raise ValueError(f"password hash cost must be {MIN_COST}..{MAX_COST}, not {cost}")
    salt = secrets.token_bytes(16)
    n = 2**cost
    return _encode(n, salt, _scrypt(password, salt, n, _R, _P))


def unusable_hash(*, cost: int = DEFAULT_COST) -> str:
    """A well-formed hash that no password matches, checked as slowly as a real one at ``cost``:
    signing in as an unknown user then takes as long as a wrong password for a known one."""
    return _encode(2**cost, secrets.token_bytes(16), secrets.token_bytes(64))


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)
