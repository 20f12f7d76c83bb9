"""Chinese text in pinyin order (阿里巴巴, 比亚迪, 大疆 …) on both databases.

PostgreSQL sorts with the ICU collation ``zh-x-icu`` when the server has ICU (it answers
``SELECT collname FROM pg_collation``); SQLite with a collation function registered on every
connection, whose key follows the same shape as ICU's Chinese order: punctuation and symbols,
then digits, then Chinese characters by pinyin (then tone, then the character), then other
letters case-insensitively. Both read each character on its own (its most common reading),
so the two databases agree except where pypinyin and ICU pick a different reading for a
polyphonic character (重 is ``zhong`` to pypinyin, ``chong`` to ICU).
"""

from __future__ import annotations

import functools
import types
from typing import Any

import sqlalchemy as sa

#: The name of the collation function registered on SQLite connections.
SQLITE_COLLATION = "pinyin"
#: The ICU collation used on PostgreSQL when the server has it.
POSTGRES_COLLATION = "zh-x-icu"
_CACHE_KEY = "tangram_pinyin_collation"

CharKey = tuple[int, str, int, int]
#: Code point ranges of Chinese characters (CJK unified ideographs, extensions, compatibility).
_HAN_RANGES = ((0x3400, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))


@functools.cache
def pypinyin_module() -> types.ModuleType:
    """pypinyin, imported at its first use: its tables take about half a second to load, which
    every ``tangram`` command and worker process would otherwise pay at start-up, whether it
    meets Chinese text or not."""
    import pypinyin

    return pypinyin


def is_han(ch: str) -> bool:
    point = ord(ch)
    return any(low <= point <= high for low, high in _HAN_RANGES)


@functools.lru_cache(maxsize=65536)
def _char_key(ch: str) -> CharKey:
    if is_han(ch):
        pypinyin = pypinyin_module()
        reading = pypinyin.pinyin(ch, style=pypinyin.Style.TONE3, neutral_tone_with_five=True)[0][0]
        if reading[-1:].isdigit():
            return (2, reading[:-1], int(reading[-1]), ord(ch))
        return (2, reading, 0, ord(ch))
    if ch.isdigit():
        return (1, ch, 0, ord(ch))
    if ch.isalpha():
        return (3, ch.casefold(), 0, ord(ch))
    return (0, ch, 0, ord(ch))


@functools.lru_cache(maxsize=65536)
def sort_key(text: str) -> tuple[CharKey, ...]:
    """The pinyin-order key of ``text``."""
    return tuple(_char_key(ch) for ch in text)


def compare(a: str, b: str) -> int:
    """The SQLite collation: negative, zero or positive as ``a`` sorts before, with or after ``b``."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def install_sqlite_collation(dbapi_connection: Any) -> None:
    dbapi_connection.create_collation(SQLITE_COLLATION, compare)


def text_collation(conn: sa.Connection) -> str | None:
    """The collation that sorts Chinese text by pinyin on this connection's database, or None
    when it has none (a PostgreSQL server built without ICU keeps its own order)."""
    if conn.dialect.name == "sqlite":
        return SQLITE_COLLATION
    if conn.dialect.name != "postgresql":
        return None
    info = conn.connection.info
    if _CACHE_KEY not in info:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_collation WHERE collname = :name"), {"name": POSTGRES_COLLATION}
        ).first()
        info[_CACHE_KEY] = POSTGRES_COLLATION if found else None
    name: str | None = info[_CACHE_KEY]
    return name
