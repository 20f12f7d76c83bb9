"""大写金额: an amount of money in Chinese capital numerals, as accountants write it on cheques,
invoices and contracts.

The rules are those of 《会计基础工作规范》 (Ministry of Finance, article 52): the capital digits
零壹贰叁肆伍陆柒捌玖 with 拾佰仟 and the sections 万, 亿 and 万亿; ``壹拾`` keeps its 壹; one
``零`` stands for a run of zeros between digits (also across a whole zero section); ``整`` follows
an amount that ends at 元 or 角, never one that ends at 分; where the 元 digit is 0 and 角 is
not, one ``零`` is written before the 角 (壹仟陆佰捌拾元零叁角贰分, the article's first form). An
amount below one yuan starts at its first non-zero unit (伍角整), and a negative one with 负.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

DIGITS = "零壹贰叁肆伍陆柒捌玖"
PLACES = ("", "拾", "佰", "仟")
SECTIONS = ("", "万", "亿", "万亿")
#: Amounts from this size on have no section name accountants agree on: the result is null.
LIMIT = Decimal(10) ** 16
_CENT = Decimal("0.01")


def _section(value: int) -> str:
    """A number 1-9999 in capitals, zeros inside it folded into one 零, none at its end."""
    out = ""
    zero = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[digit] + PLACES[place]
    return out


def _yuan(value: int) -> str:
    """The whole yuan in capitals (``value`` > 0)."""
    sections = []
    while value:
        sections.append(value % 10000)
        value //= 10000
    out = ""
    gap = False
    for index in range(len(sections) - 1, -1, -1):
        part = sections[index]
        if part == 0:
            gap = bool(out)
            continue
        if out and (gap or part < 1000):
            out += "零"
        out += _section(part) + SECTIONS[index]
        gap = False
    return out


def amount_in_words(value: Any) -> str | None:
    """``Decimal('100010.05')`` -> ``壹拾万零壹拾元零伍分``; rounded half up to the fen; null for
    null and for amounts of 10^16 or more."""
    if value is None:
        return None
    try:
        amount = Decimal(value).quantize(_CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if abs(amount) >= LIMIT:
        return None
    sign = "负" if amount < 0 else ""
    fen_total = int(abs(amount) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    words = _yuan(yuan) + "元" if yuan else ""
    if jiao:
        if yuan and yuan % 10 == 0:
            words += "零"
        words += DIGITS[jiao] + "角"
    if fen:
        if yuan and not jiao:
            words += "零"
        words += DIGITS[fen] + "分"
    else:
        words += "整"
    return sign + words
