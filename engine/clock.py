"""The one place that reads the wall clock, so tests can reason about time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """A stored UTC datetime as ISO 8601 with ``Z``, the form every JSON answer uses."""
    return None if value is None else value.isoformat().replace("+00:00", "Z")
