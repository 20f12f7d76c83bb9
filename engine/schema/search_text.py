"""What keyword search indexes: each record's search tokens and pinyin keys, and a query's tokens.

Chinese has no spaces, and the words people search for are often two characters long (华为,
小米), which trigram indexes (FTS5 ``trigram``, ``pg_trgm``) cannot answer without a full scan.
So the index holds character *bigrams*: each searchable field's text gives the pairs of
neighbouring letters or digits, prefixed by a tag naming the field (so a search can be limited
to the fields the caller may see). A query of two or more characters needs all its bigrams in
one field; the page query then checks the real substring on the candidate rows, so the
answer is exact. One-character queries are not indexed (they match too much to be useful).

The title field also gets pinyin keys (initials and full syllables, every reading of the first
character so a polyphonic surname such as 单 / 曾 is found by each of its readings), kept in a
hidden column and indexed the same way: ``hw`` and ``huawei`` find 华为.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Iterable, Mapping
from typing import Any

from engine.schema.pinyin_order import is_han, pypinyin_module
from form_engine import DefinitionMemo, EntityDef, FieldDef

#: Hidden column holding the space-separated search tokens of a record.
SEARCH_COLUMN = "_search"
#: Hidden column holding the pinyin keys of a record's title.
PINYIN_COLUMN = "_pinyin"
#: Field types whose values are words a person might type into a search box.
SEARCHABLE_TYPES = frozenset({"text", "long_text", "email", "phone", "url", "auto_number"})
#: Only the start of a long text is indexed: enough for notes, bounded for the index.
MAX_INDEXED_CHARS = 2000
#: The tag of pinyin tokens; field tags start with "f", so the two never meet.
PINYIN_TAG = "p00"
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
#: A run of letters or digits as ``str.isalnum`` has them (``\\w`` is alnum or underscore).
_ALNUM_RUN = re.compile(r"[^\W_]+")
_NOT_ALNUM = re.compile(r"[\W_]+")


#: Runs of Chinese characters as pypinyin tells them (its pattern is ``^(?:[...])+$``); split
#: by it, a text alternates between runs pypinyin segments into words and runs it keeps whole.
@functools.cache
def _han_runs() -> re.Pattern[str]:
    from pypinyin.constants import RE_HANS

    return re.compile("(" + RE_HANS.pattern.removeprefix("^(?:").removesuffix(")+$") + "+)")


def fold(text: str) -> str:
    """ASCII letters lower-cased, nothing else: what SQLite's LIKE ignores, so the index and
    the substring check agree on both databases."""
    return text.translate(_ASCII_LOWER)


def field_tag(field: FieldDef) -> str:
    """Three letters naming a field in tokens, from its stable id (a rename keeps the tokens).
    Two fields sharing a tag only widen the candidates; the substring check keeps answers exact."""
    digest = int.from_bytes(hashlib.sha1(field.id.encode()).digest()[:4], "big")
    return "f" + _DIGITS[digest % 36] + _DIGITS[(digest // 36) % 36]


def searchable_fields(entity: EntityDef) -> list[FieldDef]:
    """The stored text-like fields (the title first when it is one), in a stable order."""
    found = [f for f in entity.stored_fields() if f.type in SEARCHABLE_TYPES]
    title = title_field(entity)
    if title is not None:
        found.sort(key=lambda f: f.name != title.name)
    return found


def title_field(entity: EntityDef) -> FieldDef | None:
    """The searchable field whose pinyin is kept: the declared title, else the first text field."""
    if entity.title_field is not None:
        field = next((f for f in entity.fields if f.name == entity.title_field), None)
        return field if field is not None and field.type in SEARCHABLE_TYPES else None
    return next((f for f in entity.stored_fields() if f.type == "text"), None)


def search_signature(entity: EntityDef) -> tuple[tuple[str, str], ...]:
    """What the stored tokens depend on; a change of it means recomputing every row's tokens."""
    title = title_field(entity)
    return (*tuple((f.id, f.type) for f in searchable_fields(entity)), ("title", title.id if title else ""))


def bigrams(text: str) -> list[str]:
    """Neighbouring pairs of letters or digits, in order, without repeats; a pair across a
    space or punctuation is not a gram (a query holding one still matches through its others)."""
    runs = _ALNUM_RUN.findall(fold(text[:MAX_INDEXED_CHARS]))
    if len(runs) == 1:  # most values: one word, a code, a number
        run = runs[0]
        return list(dict.fromkeys(map(operator.add, run, run[1:])))
    seen: dict[str, None] = {}
    for run in runs:
        seen.update(dict.fromkeys(map(operator.add, run, run[1:])))
    return list(seen)


def pinyin_keys(text: str) -> str:
    """Space-separated initials and full pinyin of ``text`` (``hw huawei``), once per reading of
    the first character (a surname: 曾 gives ``zeng`` as well as ``ceng``). Letters and digits
    that are not Chinese are kept as they are, lower-cased."""
    text = text.strip()
    if not text:
        return ""
    runs = [run for run in _han_runs().split(text) if run]
    first_readings = _readings(text[0])
    keys: dict[str, None] = {}
    if len(first_readings) == 1 or not is_han(text[0]):
        # One reading: the keys are the runs' own keys joined, each run's worked out once.
        for key in (
            _alnum("".join(_run_keys(r)[0] for r in runs)),
            _alnum("".join(_run_keys(r)[1] for r in runs)),
        ):
            if key:
                keys.setdefault(key, None)
        return " ".join(keys)
    syllables = [syllable for run in runs for syllable in _run_syllables(run)]
    variants = [syllables]
    variants += [[reading, *syllables[1:]] for reading in first_readings if reading != syllables[0]]
    for parts in variants:
        initials = "".join(p[:1] if _is_syllable(p) else p for p in parts)
        for key in (_alnum(initials), _alnum("".join(parts))):
            if key:
                keys.setdefault(key, None)
    return " ".join(keys)


@functools.lru_cache(maxsize=65536)
def _run_syllables(run: str) -> tuple[str, ...]:
    """The syllables of one run of a text: a Chinese run is cut into the words of pypinyin's
    phrase table and each converted, exactly as ``lazy_pinyin`` does it; any other run is kept
    as one chunk. Runs repeat across a table's names (有限公司, 科技), hence the cache."""
    if not _han_runs().fullmatch(run):
        return (run,)
    words = pypinyin_module().seg.mmseg.seg.cut(run)
    return tuple(syllable for word in words for syllable in _word_syllables(word))


@functools.lru_cache(maxsize=65536)
def _run_keys(run: str) -> tuple[str, str]:
    """The initials and the full pinyin of one run, as ``pinyin_keys`` joins them."""
    parts = _run_syllables(run)
    return "".join(p[:1] if _is_syllable(p) else p for p in parts), "".join(parts)


@functools.lru_cache(maxsize=65536)
def _word_syllables(word: str) -> tuple[str, ...]:
    """One segmented word's syllables. pypinyin converts the words of a text one by one, so
    converting them apart gives the same answer; names share their words (上海, 有限公司), and
    the cache makes an import's pinyin keys about ten times cheaper than whole-text calls."""
    pypinyin = pypinyin_module()
    return tuple(pypinyin.lazy_pinyin(word, style=pypinyin.Style.NORMAL, errors="default"))


@functools.lru_cache(maxsize=8192)
def _readings(char: str) -> tuple[str, ...]:
    """Every reading of one character (a polyphonic surname has several)."""
    pypinyin = pypinyin_module()
    return tuple(pypinyin.pinyin(char, heteronym=True, style=pypinyin.Style.NORMAL)[0])


def _is_syllable(part: str) -> bool:
    """pypinyin returns Chinese as one syllable per character and other text as one chunk."""
    return part.isascii() and part.isalpha() and part.islower() and " " not in part


def _alnum(text: str) -> str:
    return _NOT_ALNUM.sub("", fold(text))


def search_values(entity: EntityDef, row: Mapping[str, Any]) -> dict[str, str | None]:
    """The hidden columns of one record from its field values (all of them, not a change)."""
    tokens: list[str] = []
    tagged, title = _plan(entity)
    for name, tag in tagged:
        value = row.get(name)
        if value is not None:
            _add_tagged(tokens, tag, bigrams(str(value)))
    value = row.get(title) if title is not None else None
    pinyin = pinyin_keys(str(value)) if value is not None else ""
    _add_tagged(tokens, PINYIN_TAG, bigrams(pinyin))
    return {SEARCH_COLUMN: " ".join(tokens) or None, PINYIN_COLUMN: pinyin or None}


def _add_tagged(tokens: list[str], tag: str, grams: list[str]) -> None:
    """``tag`` before each gram, the field's tokens joined in one go (an import makes millions)."""
    if grams:
        tokens.append(tag + (" " + tag).join(grams))


Plan = tuple[tuple[tuple[str, str], ...], str | None]
_PLANS: DefinitionMemo[Plan] = DefinitionMemo(512)


def _plan(entity: EntityDef) -> Plan:
    """The searched fields with their tags, and the title field's name, worked out once per
    entity definition rather than once per row (an import writes thousands of rows of one)."""
    return _PLANS.get(entity, None, lambda: _make_plan(entity))


def _make_plan(entity: EntityDef) -> Plan:
    title = title_field(entity)
    return (
        tuple((f.name, field_tag(f)) for f in searchable_fields(entity)),
        title.name if title is not None else None,
    )


def reads_search_fields(entity: EntityDef, names: Iterable[str]) -> bool:
    """Whether a change of ``names`` moves the search columns."""
    searched = {f.name for f in searchable_fields(entity)}
    return any(name in searched for name in names)


def query_text(q: str) -> str:
    """The query as matched: surrounding space removed, inner runs of space kept as typed."""
    return q.strip()


def pinyin_query(q: str) -> str | None:
    """The query as pinyin (``Hua Wei`` -> ``huawei``), when it is made of ASCII letters and digits."""
    text = fold(q).replace(" ", "")
    return text if text and text.isascii() and text.isalnum() else None
