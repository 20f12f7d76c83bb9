"""The contract of the single enforcement point for who may do what to which records.

Every record path (HTTP, imports, other engines) asks this object; it answers with SQL (so
lists, counts and reports see the same rows) and with field rules applied to every output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import sqlalchemy as sa

from engine.access.field_rules import OPEN, FieldPlan
from engine.context import Context

if TYPE_CHECKING:
    from engine.apps.runtime import EntityRuntime

Operation = Literal["create", "read", "update", "delete", "export", "import"]


class AccessPolicy(Protocol):
    def require(self, ctx: Context, er: EntityRuntime, op: Operation) -> None:
        """Raise ``Forbidden`` naming the missing permission."""

    def row_filter(self, ctx: Context, conn: sa.Connection, er: EntityRuntime, op: Operation) -> Any:
        """A WHERE clause selecting the rows ``ctx`` may ``op``, or None for all rows."""

    def check_write(self, ctx: Context, er: EntityRuntime, data: Mapping[str, Any], op: Operation) -> None:
        """Refuse values for fields the caller may not write (hidden or read-only), ``owner``
        included."""

    def check_query(self, ctx: Context, er: EntityRuntime, filter: str | None, sort: str | None) -> None:
        """Refuse a list filter or sort on fields the caller cannot see (it would reveal them)."""

    def field_plan(self, ctx: Context, er: EntityRuntime) -> FieldPlan:
        """The fields hidden, masked and read-only for ``ctx`` (what a report or a loader needs
        to leave out)."""

    def present(self, ctx: Context, er: EntityRuntime, record: dict[str, Any]) -> dict[str, Any]:
        """The record (as JSON) as ``ctx`` may see it: hidden fields removed, masked masked."""

    def present_changes(self, ctx: Context, er: EntityRuntime, changes: Any) -> Any:
        """A history entry's ``{field: [old, new]}`` under the same field rules as ``present``."""


class OpenAccess:
    """Every authenticated caller may do everything with records (embedding, tools, tests)."""

    def require(self, ctx: Context, er: EntityRuntime, op: Operation) -> None:
        return None

    def row_filter(self, ctx: Context, conn: sa.Connection, er: EntityRuntime, op: Operation) -> Any:
        return None

    def check_write(self, ctx: Context, er: EntityRuntime, data: Mapping[str, Any], op: Operation) -> None:
        return None

    def check_query(self, ctx: Context, er: EntityRuntime, filter: str | None, sort: str | None) -> None:
        return None

    def field_plan(self, ctx: Context, er: EntityRuntime) -> FieldPlan:
        return OPEN

    def present(self, ctx: Context, er: EntityRuntime, record: dict[str, Any]) -> dict[str, Any]:
        return record

    def present_changes(self, ctx: Context, er: EntityRuntime, changes: Any) -> Any:
        return changes
