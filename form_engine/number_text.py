"""Numbers as people write them: ``1,234.50``, ``¥1234``, ``１２３``, ``1.2万``, ``(1,234.00)``.

Thousands separators are accepted only where they group thousands: ``12,34`` is refused, not
read as 1234, because in half the world it means 12.34 and a wrong amount is worse than a
question. One kind of separator per number (comma, space or underscore); full-width forms and
no-break spaces count as their ASCII twins.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

#: What a JSON client sends: ASCII digits, no grouping. Decimal() alone would also take
#: ``1_000``, ``١٢`` or ``Infinity``, which must go through the rules below or be refused.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_WRITTEN_NUMBER = re.compile(
    r"""
    (?P<sign>[+-]?)
    (?P<whole>\d{1,3}(?P<sep>[,_ ])\d{3}(?:(?P=sep)\d{3})*|\d+|(?=\.\d))
    (?P<rest>(?:\.\d*)?(?:[eE][+-]?\d+)?)
    """,
    re.ASCII | re.VERBOSE,
)
_CURRENCY = re.compile(r"^[¥$€£]\s*|\s*(元|人民币|RMB|CNY|USD|EUR)$", re.IGNORECASE)
_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}


def number_text(text: str) -> Decimal:
    """The number ``text`` writes; raises ``InvalidOperation`` when it is not one.

    ``1,234.50``, ``1 234.5``, ``¥1234``, ``1234元``, ``1.2万``, full-width digits, and the
    accounting negative ``(1,234.00)``. Grouping must be by thousands, the same separator
    throughout, and only before the decimal point.
    """
    cleaned = _CURRENCY.sub("", unicodedata.normalize("NFKC", text).strip()).strip()
    multiplier = Decimal(1)
    if cleaned and cleaned[-1] in _MULTIPLIERS:
        multiplier = _MULTIPLIERS[cleaned[-1]]
        cleaned = cleaned[:-1].rstrip()
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1].strip()
    match = _WRITTEN_NUMBER.fullmatch(cleaned)
    if match is None or not (match["whole"] or match["rest"]):
        raise InvalidOperation(text)
    whole = match["whole"].replace(match["sep"], "") if match["sep"] else match["whole"]
    return Decimal(f"{match['sign']}{whole}{match['rest']}") * multiplier
