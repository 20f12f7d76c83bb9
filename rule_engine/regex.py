"""A safe regular-expression subset, translated to one meaning for Python ``re`` and PostgreSQL.

Only existence of a match is asked, so greediness does not matter. The subset: literals, ``.``,
``^``, ``$``, ``[...]`` with ranges, ``\\d \\w \\s`` (ASCII classes) and their negations outside
brackets, ``* + ? {m} {m,} {m,n}`` (n <= 255), groups and ``|``. Backtracking blow-ups are
refused at compile time: a quantified group may not contain a quantifier or an alternation
(``(a+)+``, ``(a|a)*``) and at most two quantifiers may be unbounded, which keeps matching
within O(n^3); texts longer than ``MAX_INPUT`` characters never match, on both backends, so the
worst case stays well under a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rule_engine.errors import RuleError
from rule_engine.messages import phrase

MAX_PATTERN_LENGTH = 500
MAX_INPUT = 1000
MAX_UNBOUNDED = 2
_MAX_REPEAT = 255
_CLASSES = {
    "d": [("0", "9")],
    "w": [("a", "z"), ("A", "Z"), ("0", "9"), ("_", "_")],
    "s": [(" ", " "), ("\t", "\r")],
}


@dataclass(frozen=True)
class SafeRegex:
    """One pattern in both dialects; ``python`` is compiled with ``re.DOTALL``."""

    source: str
    python: str
    postgresql: str

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.python, re.DOTALL)


def _char(c: str) -> str:
    if c.isascii() and (c.isalnum() or c == " "):
        return c
    code = ord(c)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _ranges(ranges: list[tuple[str, str]]) -> str:
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in ranges)


class _Translator:
    def __init__(self, pattern: str, line: int, column: int) -> None:
        self.p = pattern
        self.i = 0
        self.line = line
        self.column = column
        self.unbounded = 0

    def error(self, detail: str, code: str = "regex_invalid", **args: object) -> RuleError:
        """``detail`` names a ``regex.<detail>`` phrase of :mod:`rule_engine.messages`."""
        return RuleError(
            code=code,
            line=self.line,
            column=self.column,
            params={"detail": phrase(f"regex.{detail}", **args), "offset": self.i},
        )

    def peek(self) -> str | None:
        return self.p[self.i] if self.i < len(self.p) else None

    def alternation(self, depth: int) -> tuple[str, bool, bool]:
        """Returns (translated, has_quantifier, has_alternation)."""
        branches = [self.sequence(depth)]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence(depth))
        text = "|".join(b[0] for b in branches)
        return text, any(b[1] for b in branches), len(branches) > 1 or any(b[2] for b in branches)

    def sequence(self, depth: int) -> tuple[str, bool, bool]:
        out: list[str] = []
        quantified = alternated = False
        while (c := self.peek()) is not None and c not in "|)":
            atom, inner_q, inner_alt, is_group = self.atom(depth)
            quant = self.quantifier()
            if quant:
                if is_group and (inner_q or inner_alt):
                    raise self.error("nested_repetition", "regex_unsafe")
                quantified = True
            quantified = quantified or inner_q
            alternated = alternated or inner_alt
            out.append(atom + quant)
        return "".join(out), quantified, alternated

    def quantifier(self) -> str:
        c = self.peek()
        if c is None or c not in "*+?{":
            return ""
        if c == "{":
            m = re.compile(r"\{(\d{1,3})(,(\d{1,3})?)?\}").match(self.p, self.i)
            if not m:
                raise self.error("brace")
            low = int(m.group(1))
            high = int(m.group(3)) if m.group(3) else None
            if low > _MAX_REPEAT or (high is not None and (high > _MAX_REPEAT or high < low)):
                raise self.error("repeat_counts", found=m.group(0), max=_MAX_REPEAT)
            self.i = m.end()
            quant = m.group(0)
            if high is None or high > 16:
                self.unbounded += 1
        else:
            self.i += 1
            quant = c
            if c != "?":
                self.unbounded += 1
        if self.unbounded > MAX_UNBOUNDED:
            raise self.error("unbounded", "regex_unsafe", max=MAX_UNBOUNDED)
        if self.peek() == "?":
            self.i += 1
        following = self.peek()
        if following is not None and following in "*+?{":
            raise self.error("double_quantifier")
        return quant

    def atom(self, depth: int) -> tuple[str, bool, bool, bool]:
        c = self.p[self.i]
        self.i += 1
        if c == "(":
            if depth > 16:
                raise self.error("group_depth")
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self.peek() == "?":
                raise self.error("lookaround")
            inner, q, alt = self.alternation(depth + 1)
            if self.peek() != ")":
                raise self.error("unclosed_group")
            self.i += 1
            return f"(?:{inner})", q, alt, True
        if c == ")":
            raise self.error("unopened_group")
        if c in "*+?{":
            raise self.error("nothing_to_repeat", char=c)
        if c == ".":
            return ".", False, False, False
        if c == "^":
            return "^", False, False, False
        if c == "$":
            return "$", False, False, False
        if c == "[":
            return self.bracket(), False, False, False
        if c == "\\":
            return self.escape(), False, False, False
        return _char(c), False, False, False

    def escape(self) -> str:
        c = self.peek()
        if c is None:
            raise self.error("trailing_backslash")
        self.i += 1
        if c.lower() in _CLASSES:
            body = _ranges(_CLASSES[c.lower()])
            return f"[{'^' if c.isupper() else ''}{body}]"
        if c in "nt":
            return _char("\n" if c == "n" else "\t")
        if c.isascii() and c.isalnum():
            raise self.error("escape", char=c)
        return _char(c)

    def bracket(self) -> str:
        negate = False
        if self.peek() == "^":
            negate = True
            self.i += 1
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            c = self.peek()
            if c is None:
                raise self.error("unclosed_bracket")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            low = self.class_char()
            if isinstance(low, list):
                ranges.extend(low)
                continue
            if self.peek() == "-" and self.i + 1 < len(self.p) and self.p[self.i + 1] != "]":
                self.i += 1
                high = self.class_char()
                if isinstance(high, list) or high < low:
                    raise self.error("bad_range")
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        return f"[{'^' if negate else ''}{_ranges(ranges)}]"

    def class_char(self) -> str | list[tuple[str, str]]:
        c = self.p[self.i]
        self.i += 1
        if c != "\\":
            return c
        e = self.peek()
        if e is None:
            raise self.error("trailing_backslash")
        self.i += 1
        if e in _CLASSES:
            return list(_CLASSES[e])
        if e in "nt":
            return "\n" if e == "n" else "\t"
        if e.isascii() and e.isalnum():
            raise self.error("class_escape", char=e)
        return e


def translate(pattern: str, line: int = 0, column: int = 0) -> SafeRegex:
    """Check ``pattern`` against the safe subset and translate it for both backends."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise RuleError(
            code="regex_invalid",
            line=line,
            column=column,
            params={"reason": "too_long", "found": len(pattern), "expected": MAX_PATTERN_LENGTH},
        )
    t = _Translator(pattern, line, column)
    body, _, _ = t.alternation(0)
    if t.peek() is not None:
        raise t.error("unopened_group")
    python = body.replace("$", r"\Z")
    # "$" only ever comes from the anchor: every other symbol was emitted as a \u escape.
    return SafeRegex(pattern, python, body)
