"""Keyword search (``q=``) as one WHERE clause: the index narrows, the substring check decides.

A record matches when the query is a substring (ASCII case ignored) of one of its searchable
fields that the caller may see, or, for a query of letters and digits, of the pinyin keys of
its title (``hw`` / ``huawei`` find 华为). Fields hidden from or masked for the caller are never
searched, so a search cannot reveal what a list would not show. The index part (tokens, see
``engine.schema.search_text``) selects candidate rows through FTS5 on SQLite and a GIN index on
PostgreSQL; the substring part keeps the answer exact. A query without two neighbouring letters
or digits has no tokens and is answered by the substring check alone (a scan).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from engine.apps.runtime import EntityRuntime
from engine.errors import InvalidInput
from engine.messages import problem
from engine.schema.search_index import fts_table_name
from engine.schema.search_text import (
    PINYIN_COLUMN,
    PINYIN_TAG,
    SEARCH_COLUMN,
    bigrams,
    field_tag,
    fold,
    pinyin_query,
    query_text,
    searchable_fields,
    title_field,
)

#: Longer queries are not what a search box is for; the bound keeps the token list short.
MAX_QUERY_LENGTH = 200


def search_clause(er: EntityRuntime, q: str, secret: Collection[str], dialect: str) -> Any:
    """The condition for ``q`` over the fields not in ``secret`` (hidden or masked), or None
    for an empty query. A query no visible field can match selects nothing."""
    text = query_text(q)
    if not text:
        return None
    if len(text) > MAX_QUERY_LENGTH:
        found = problem("search_too_long", pointer="/q", max=MAX_QUERY_LENGTH, length=len(text))
        raise InvalidInput("search_invalid", problems=[found])
    table = er.table
    branches: list[tuple[list[str], Any]] = []
    for field in searchable_fields(er.entity):
        if field.name in secret:
            continue
        tag = field_tag(field)
        branches.append(
            ([tag + g for g in _narrowing(text)], table.c[field.name].icontains(text, autoescape=True))
        )
    title = title_field(er.entity)
    spelled = pinyin_query(text)
    if spelled and title is not None and title.name not in secret:
        tokens = [PINYIN_TAG + g for g in _narrowing(spelled)]
        branches.append((tokens, table.c[PINYIN_COLUMN].contains(spelled, autoescape=True)))
    if not branches:
        return sa.false()
    alternatives = [tokens for tokens, _check in branches]
    if any(not tokens for tokens in alternatives):
        return sa.or_(*[check for _tokens, check in branches])
    indexed = _indexed(er, alternatives, dialect)
    if _token_is_query(text) and (spelled is None or _token_is_query(spelled)):
        return indexed  # the one token a two-character query has is the substring itself
    return sa.and_(indexed, sa.or_(*[check for _tokens, check in branches]))


def _narrowing(text: str) -> list[str]:
    """Enough of the query's bigrams to narrow the candidates: every other one and the last
    (each character of a plain word stays covered). A matching row holds them all, so fewer tokens lose no
    answer (the substring check decides), and each token left out is a posting list the
    index does not have to read: pinyin pairs such as ``hu`` or ``ei`` are in a tenth of a
    table's rows."""
    grams = bigrams(text)
    return grams if len(grams) <= 2 else [*grams[:-1:2], grams[-1]]


def _token_is_query(text: str) -> bool:
    """Whether holding the query's one token means holding the query: two letters or digits,
    uncased or ASCII (the index folds ASCII case only, as SQLite's LIKE does)."""
    return (
        len(text) == 2 and bigrams(text) == [fold(text)] and (text.isascii() or text.lower() == text.upper())
    )


def _indexed(er: EntityRuntime, alternatives: list[list[str]], dialect: str) -> Any:
    """Rows holding every token of at least one alternative, through the database's index."""
    table = er.table
    if dialect == "postgresql":
        held = sa.func.string_to_array(table.c[SEARCH_COLUMN], " ", type_=postgresql.ARRAY(sa.Text))
        return sa.or_(*[held.contains(sa.cast(tokens, postgresql.ARRAY(sa.Text))) for tokens in alternatives])
    if dialect == "sqlite":
        expression = " OR ".join(
            "(" + " AND ".join(f'"{t}"' for t in tokens) + ")" for tokens in alternatives
        )
        fts = sa.table(fts_table_name(table.name))
        rows: sa.Select[Any] = (
            sa.select(sa.literal_column("rowid"))
            .select_from(fts)
            .where(sa.literal_column(f'"{fts_table_name(table.name)}"').op("MATCH")(expression))
        )
        return table.c.id.in_(rows)
    return sa.true()
