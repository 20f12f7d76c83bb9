"""Record events: frozen facts with stable names, published after the write commits."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from engine.context import Context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordEvent:
    name: ClassVar[str] = "record.event"
    app: str
    entity: str
    record_id: int
    record: dict[str, Any]
    context: Context = field(compare=False)


@dataclass(frozen=True)
class RecordCreated(RecordEvent):
    name: ClassVar[str] = "record.created"


@dataclass(frozen=True)
class RecordUpdated(RecordEvent):
    """``changes`` maps each changed field to ``(old, new)``."""

    name: ClassVar[str] = "record.updated"
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    @property
    def old_values(self) -> dict[str, Any]:
        return {k: old for k, (old, _new) in self.changes.items()}


@dataclass(frozen=True)
class RecordDeleted(RecordEvent):
    name: ClassVar[str] = "record.deleted"


@dataclass(frozen=True)
class RecordRestored(RecordEvent):
    name: ClassVar[str] = "record.restored"


@dataclass(frozen=True)
class RecordPurged(RecordEvent):
    name: ClassVar[str] = "record.purged"


Listener = Callable[[RecordEvent], None]


class EventBus:
    """In-process publish/subscribe. A failing listener is logged; it never undoes the write."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Listener:
        self._listeners.append(listener)
        return listener

    def publish(self, event: RecordEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("listener %r failed on %s", listener, event.name)
