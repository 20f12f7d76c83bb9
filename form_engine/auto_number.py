"""Auto-number patterns such as ``HT-{YYYYMMDD}-{seq:4}``.

The kernel keeps one gap-free counter per ``sequence_key(pattern, now)`` (a row locked in the
create transaction) and calls ``format_auto_number`` with the next value. The key contains the
formatted date parts, so a pattern with ``{YYYYMMDD}`` restarts its sequence every day and one
with ``{YYYY}`` every year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

DATE_TOKENS: dict[str, str] = {
    "YYYYMMDD": "%Y%m%d",
    "YYYYMM": "%Y%m",
    "YYMMDD": "%y%m%d",
    "YYYY": "%Y",
    "YY": "%y",
    "MM": "%m",
    "DD": "%d",
}
_TOKEN = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"^seq(?::(\d{1,2}))?$")


class PatternError(ValueError):
    """An auto-number pattern that cannot be used; the message names the bad token."""


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern: literal text and tokens in order, and the sequence width."""

    parts: tuple[tuple[str, str], ...]
    width: int


def parse_pattern(pattern: str) -> Pattern:
    """Split ``pattern`` into ("text"|"date"|"seq", value) parts; exactly one ``{seq}`` is required."""
    parts: list[tuple[str, str]] = []
    width: int | None = None
    position = 0
    for match in _TOKEN.finditer(pattern):
        if match.start() > position:
            parts.append(("text", pattern[position : match.start()]))
        token = match[1]
        seq = _SEQ.match(token)
        if seq:
            if width is not None:
                raise PatternError(f"pattern {pattern!r} has more than one {{seq}}")
            width = int(seq[1] or 1)
            if not 1 <= width <= 12:
                raise PatternError(f"{{seq:{width}}}: the width must be 1 to 12 digits")
            parts.append(("seq", token))
        elif token in DATE_TOKENS:
            parts.append(("date", token))
        else:
            known = ", ".join(["seq", "seq:N", *DATE_TOKENS])
            raise PatternError(f"unknown token {{{token}}} in {pattern!r}; known: {known}")
        position = match.end()
    rest = pattern[position:]
    if "{" in rest or "}" in rest:
        raise PatternError(f"unbalanced brace in {pattern!r}")
    if rest:
        parts.append(("text", rest))
    if width is None:
        raise PatternError(f"pattern {pattern!r} needs a {{seq}} or {{seq:N}} token")
    return Pattern(tuple(parts), width)


def _local(now: datetime | None, zone: tzinfo) -> datetime:
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(zone)


def sequence_key(pattern: str, now: datetime | None = None, timezone: str = "Asia/Shanghai") -> str:
    """The counter's key: the pattern with its date tokens filled in (``HT-20261122-{seq:4}``)."""
    parsed = parse_pattern(pattern)
    local = _local(now, ZoneInfo(timezone))
    return "".join(
        local.strftime(DATE_TOKENS[value]) if kind == "date" else (f"{{{value}}}" if kind == "seq" else value)
        for kind, value in parsed.parts
    )


def format_auto_number(
    pattern: str, seq: int, now: datetime | None = None, timezone: str = "Asia/Shanghai"
) -> str:
    """``format_auto_number("HT-{YYYYMMDD}-{seq:4}", 7, now)`` -> ``HT-20261122-0007``.

    A sequence longer than the width is written in full rather than truncated, so numbers stay
    unique.
    """
    if seq < 1:
        raise ValueError(f"sequence numbers start at 1, got {seq}")
    parsed = parse_pattern(pattern)
    local = _local(now, ZoneInfo(timezone))
    out = []
    for kind, value in parsed.parts:
        if kind == "text":
            out.append(value)
        elif kind == "date":
            out.append(local.strftime(DATE_TOKENS[value]))
        else:
            out.append(str(seq).zfill(parsed.width))
    return "".join(out)
