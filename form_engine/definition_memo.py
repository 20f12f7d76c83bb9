"""A bounded memo of what is worked out from a definition object, by the object's identity.

Definitions (an ``EntityDef``, its rules) are immutable and not hashable, and an app change
replaces them with new objects; work derived from one (which fields are searched, a row's
duplicate keys) is worth keeping while the object lives, and is looked up millions of times in
an import. The memo holds the object itself beside each answer, so an identity reused after the
object was collected never returns another definition's answer, and it forgets everything when
full rather than tracking order: a full memo means the definitions it held were replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class DefinitionMemo(Generic[V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[tuple[int, Hashable], tuple[object, V]] = {}

    def get(self, definition: object, key: Hashable, compute: Callable[[], V]) -> V:
        """The answer for ``definition`` and ``key``, computed once (``key`` must be hashable:
        a caller with an unhashable one computes without the memo)."""
        slot = (id(definition), key)
        found = self._entries.get(slot)
        if found is not None and found[0] is definition:
            return found[1]
        value = compute()
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[slot] = (definition, value)
        return value
