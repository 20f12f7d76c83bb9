"""Text no database can hold: NUL characters and unpaired UTF-16 surrogates.

PostgreSQL refuses NUL in text and JSON, SQLite keeps it and cuts it off in some readers, and a
lone surrogate (``"\\ud800"`` is valid JSON) cannot be encoded as UTF-8 at all. Such text is
never anything a person meant to type, so every input door refuses it with a 422 before it
reaches a driver: the record coercion here, the HTTP layer for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: NUL and the surrogate range; ``UNSTORABLE.search`` is what hot paths call.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def code_point(char: str) -> str:
    """``U+0000``: how a problem names the character without repeating it."""
    return f"U+{ord(char):04X}"


def escape_unstorable(text: str) -> str:
    """``text`` with each unstorable character written as ``\\uXXXX``, safe to echo back."""
    return UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def unstorable_char(text: str) -> str | None:
    """The first NUL or lone surrogate in ``text``, else None (one C-speed regex search)."""
    found = UNSTORABLE.search(text)
    return None if found is None else found.group()


def unstorable_in(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(path, char)`` for every string of a JSON value (object keys included) holding one.

    ``path`` locates the string from the value's root by keys and list indexes; for a bad key,
    the path ends with that key. An explicit stack, so no nesting depth exhausts recursion.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            char = unstorable_char(item)
            if char is not None:
                yield where, char
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                stack.append(((*where, key), inner))
                if isinstance(key, str):
                    stack.append(((*where, key), key))
        elif isinstance(item, (list, tuple)):
            stack.extend(((*where, i), inner) for i, inner in reversed(list(enumerate(item))))
