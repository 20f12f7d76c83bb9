"""Top-level parts of the app package that plugins own: flows, reports, dashboards...

The package is one document, so what a plugin adds to an app travels with it: it is described
by the package's JSON Schema, checked when the package is saved, exported and imported, and
versioned with the rest. A plugin contributes a :class:`PackageSection` through the
``tangram_package_sections`` hook; the kernel never learns what a flow or a report is.

Like the field-type registry, the registry is per process and versioned, so cached schemas and
validators see a section the moment it is registered.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from form_engine import Problem

if TYPE_CHECKING:
    from engine.apps.package import AppPackage
    from engine.context import Context

#: Cross-checks of one section against the parsed package (entities, fields, roles). Each
#: problem's pointer is relative to the section (``/3/nodes/0``); the kernel prefixes it.
SectionCheck = Callable[["AppPackage", Sequence[dict[str, Any]]], list[Problem]]

#: Switches items of a section on (a flow saved as a draft runs once published): called with the
#: platform, the acting context, the app and the item names; returns the names it published.
#: The kernel calls it where a whole app is brought up at once (``tangram demo``).
SectionPublish = Callable[[Any, "Context", str, Sequence[str]], list[str]]

#: Sections the package format reserves (those of the engines shipped with the platform); without
#: the plugin that owns one it holds opaque objects, so a package exported where the flow engine,
#: report engine or browser app runs still imports where one of them is not installed.
RESERVED = ("rules", "flows", "calendars", "segments", "reports", "dashboards", "menus")


@dataclasses.dataclass(frozen=True)
class PackageSection:
    """A list-valued top-level key of the app package owned by a plugin.

    ``item_schema`` is the JSON Schema (Draft 2020-12) of one item; its ``$defs`` are merged into
    the package schema's, so name them after the plugin (``FlowNode``, not ``Node``).
    """

    name: str
    item_schema: dict[str, Any]
    check: SectionCheck | None = None
    description: str = ""
    publish: SectionPublish | None = None


class SectionRegistry:
    """The sections known to this process, in registration order."""

    def __init__(self) -> None:
        self._sections: dict[str, PackageSection] = {}
        self._lock = threading.Lock()
        self.version = 0

    def register(self, section: PackageSection) -> None:
        """Add ``section`` or replace the one of the same name (a re-created plugin manager
        registers its sections again: an equal one keeps the version, and the cached
        validators with it)."""
        with self._lock:
            if self._sections.get(section.name) != section:
                self._sections[section.name] = section
                self.version += 1

    def get(self, name: str) -> PackageSection | None:
        return self._sections.get(name)

    def names(self) -> list[str]:
        return list(self._sections)

    def __iter__(self) -> Iterator[PackageSection]:
        return iter(list(self._sections.values()))


sections = SectionRegistry()


def section_problems(package: AppPackage, registry: SectionRegistry = sections) -> list[Problem]:
    """Every problem the registered sections' checks find, pointers made absolute."""
    found: list[Problem] = []
    for section in registry:
        items = package.section(section.name)
        if section.check is None or not items:
            continue
        for p in section.check(package, items):
            pointer = f"/{section.name}{p.pointer or ''}"
            found.append(dataclasses.replace(p, pointer=pointer))
    return found
