"""Masking sensitive values for display: enough left to recognise, not enough to use."""

from __future__ import annotations

import re
from typing import Any

_STAR = "*"


def _keep(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        # Too short to keep both ends: show at most the first character.
        return text[:1] + _STAR * max(len(text) - 1, 1) if len(text) > 1 else _STAR
    return text[:head] + _STAR * (len(text) - head - tail) + text[len(text) - tail :]


def mask_phone(text: str) -> str:
    """``13812341234`` -> ``138****1234``; a landline keeps its area code and last four digits."""
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if digits.startswith("0") and len(digits) >= 10:  # a Chinese landline: 010-1234 5678
        return _keep(text, 3, 4)
    # Any other number hides its middle half, however short (a 10-digit number shows 4 digits).
    keep = max(len(digits) // 4, 1)
    return _keep(digits, keep, keep)


def mask_id_number(text: str) -> str:
    """An 18-digit resident ID keeps its region code and last four: ``110101********123X``."""
    return _keep(text, 6, 4) if len(text) >= 15 else _keep(text, 1, 1)


def mask_email(text: str) -> str:
    local, at, domain = text.partition("@")
    if not at:
        return mask_generic(text)
    return (local[:1] + "***") + "@" + domain


def mask_name(text: str) -> str:
    """``张三丰`` -> ``张**``: the family name stays."""
    return text[:1] + _STAR * max(len(text) - 1, 1)


def mask_bank_card(text: str) -> str:
    digits = re.sub(r"\s", "", text)
    return _STAR * 4 + " " + digits[-4:] if len(digits) > 4 else _STAR * 4


def mask_generic(text: str) -> str:
    """About the middle third hidden."""
    keep = max(len(text) // 3, 1) if len(text) > 2 else 0
    return _keep(text, keep, keep) if keep else _STAR * max(len(text), 1)


MASKERS = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "email": mask_email,
    "name": mask_name,
    "bank_card": mask_bank_card,
    "generic": mask_generic,
    "all": lambda text: "******",
}


def mask(kind: str, value: Any) -> Any:
    """``value`` (a JSON value) masked by ``kind``; null stays null so emptiness is not hidden."""
    if value is None:
        return None
    if isinstance(value, list):
        return [mask(kind, v) for v in value]
    if isinstance(value, dict):
        return {k: mask(kind, v) for k, v in value.items()}
    text = value if isinstance(value, str) else str(value)
    if not text:
        return text
    return MASKERS[kind](text)
