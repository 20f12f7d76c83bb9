"""Steps of a record write that need the database: the kernel side of field types, and plugins'.

The form engine decides what values are valid; some field types also need rows elsewhere
(auto-number counters, child records, link tables, roll-ups on a parent, duplicate checks), and
plugins may need to act inside the same transaction (a flow starting an instance). Each such
concern is one ``WriteStep``; the write unit runs every step on each batch of rows, ``before``
the rows are written and ``after`` (when ids are known), in the write's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime
    from engine.records.writer import WriteUnit

WriteOp = Literal["create", "update", "delete", "restore"]
Record = dict[str, Any]


@dataclass
class Batch:
    """Rows of one entity written together, as the steps see them. Row ``i`` of ``rows``,
    ``old``, ``relations`` and ``pointers`` belong together; ``ids`` is filled once the rows
    are in the table (on create)."""

    unit: WriteUnit
    er: EntityRuntime
    op: WriteOp
    #: create: the full rows; update: the changed values; delete/restore: the stored rows
    #: with their new system values
    rows: list[Record]
    #: the stored rows before the write (None on create)
    old: list[Mapping[str, Any] | None]
    #: values of storage-"none" fields the client sent (sub-table rows, link id lists)
    relations: list[Mapping[str, Any]]
    #: JSON pointer of row ``i`` in the request, for problems (``/items/3``, ``/lines/0``)
    pointers: list[str]
    ids: list[int] = field(default_factory=list)
    #: row index -> duplicate-rule matches to report with the saved record
    duplicates: dict[int, list[dict[str, Any]]] = field(default_factory=dict)


class WriteStep:
    """One concern of every write. Override what the step needs; both default to nothing."""

    def before(self, batch: Batch) -> None:
        """Runs before the rows are written; may fill values or refuse the write."""

    def after(self, batch: Batch) -> None:
        """Runs after the rows are written, in the same transaction."""
