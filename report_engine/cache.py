"""Report results cached per (app version, report, parameters, caller's scope, language), so a
repeated dashboard load is answered without touching the records.

An entry remembers the generation of every entity it read; a record event on one of them moves
that entity's generation on, so the next run recomputes (the event is published before the
write's response, so a user never sees a report older than their own change). Entries from
relative periods ("this month") end at the next local midnight; every entry ends after
``MAX_AGE`` seconds, which bounds what this process cannot hear: role, share and department
changes, and writes made by other processes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

MAX_AGE = 60.0
MAX_ENTRIES = 2048


@dataclass(frozen=True)
class Entry:
    value: Any
    generations: tuple[tuple[str, int], ...]
    expires: float


class ResultCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._generations: dict[tuple[str, str], int] = {}
        self.max_entries = max_entries

    def generations(self, app: str, entities: Iterable[str]) -> tuple[tuple[str, int], ...]:
        """The current generation of each entity (read before a run, stored with its result)."""
        return tuple(sorted((e, self._generations.get((app, e), 0)) for e in entities))

    def get(self, key: Hashable, app: str) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            current = tuple((e, self._generations.get((app, e), 0)) for e, _g in entry.generations)
            if current != entry.generations or time.monotonic() >= entry.expires:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.value

    def put(
        self, key: Hashable, value: Any, generations: tuple[tuple[str, int], ...], expires_in: float
    ) -> None:
        with self._lock:
            self._entries[key] = Entry(value, generations, time.monotonic() + min(expires_in, MAX_AGE))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def changed(self, app: str, entity: str) -> None:
        """A record of ``entity`` changed: results that read it are stale."""
        with self._lock:
            self._generations[(app, entity)] = self._generations.get((app, entity), 0) + 1

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
