"""Keyword search: every write keeps the row's hidden search tokens and pinyin keys current.

The tokens are computed here, inside the one write unit, and stored with the row; the database
index over them follows by itself (``engine.schema.search_index``). An update computes them
again only when it changes a searched field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.records.steps.base import WriteStep
from engine.schema.search_text import reads_search_fields, search_values

if TYPE_CHECKING:
    from engine.records.steps.base import Batch


class SearchKeys(WriteStep):
    def before(self, batch: Batch) -> None:
        if batch.op not in ("create", "update"):
            return
        entity = batch.er.entity
        for row, old in zip(batch.rows, batch.old, strict=True):
            if old is None:
                row.update(search_values(entity, row))
            elif reads_search_fields(entity, row):
                fresh = search_values(entity, {**old, **row})
                row.update({name: value for name, value in fresh.items() if old.get(name) != value})
