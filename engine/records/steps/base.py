"""Steps of a record write that need the database: the kernel side of field types.

The form engine decides what values are valid; some field types also need rows elsewhere
(auto-number counters, child records, link tables, roll-ups on a parent, duplicate checks).
Each such concern is one ``WriteStep``; the record service runs every step inside the write's
transaction, ``before`` the row is written and ``after`` (when ids are known).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

import sqlalchemy as sa

from engine.context import Context

if TYPE_CHECKING:
    from engine.apps.runtime import AppRuntime, EntityRuntime
    from engine.platform import Platform

WriteOp = Literal["create", "update", "delete", "restore"]


@dataclass
class Write:
    """One write as the steps see it. Row ``i`` of ``rows``, ``old`` and ``relations`` belong
    together; ``ids`` is filled once the rows are in the table."""

    platform: Platform
    conn: sa.Connection
    ctx: Context
    runtime: AppRuntime
    er: EntityRuntime
    op: WriteOp
    now: datetime
    #: create: the full rows; update: the changed values; delete/restore: the stored rows
    rows: list[dict[str, Any]]
    #: the stored rows before the write (None on create)
    old: list[Mapping[str, Any] | None]
    #: values of storage-"none" fields the client sent (sub-table rows, link id lists)
    relations: list[Mapping[str, Any]]
    #: request options, e.g. ``{"confirm_duplicates": True}``
    options: Mapping[str, Any] = field(default_factory=dict)
    #: JSON pointer prefix of row ``i`` for problems (``/items/3`` in a bulk create)
    pointers: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    #: what steps want to tell the caller (e.g. duplicate warnings), keyed by step
    notes: dict[str, Any] = field(default_factory=dict)


class WriteStep(Protocol):
    def before(self, write: Write) -> None:
        """Runs before the rows are written; may fill values or refuse the write."""

    def after(self, write: Write) -> None:
        """Runs after the rows are written, in the same transaction."""


def run_before(steps: list[WriteStep], write: Write) -> None:
    for step in steps:
        step.before(write)


def run_after(steps: list[WriteStep], write: Write) -> None:
    for step in steps:
        step.after(write)
