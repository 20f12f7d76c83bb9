"""Every action this process knows, for checks that run without a platform.

A package's sections are checked when it is parsed, and parsing has no platform at hand (the
CLI's checks of a package file, an import, a template upgrade). Like the package sections themselves,
the actions such a check accepts are the process's: those of every installed plugin, and of
every platform built here (one may be given plugins that are not installed, as tests and
embedding apps do). The catalogue only grows, so whether a package is valid never depends on
which platform a process happened to build last.
"""

from __future__ import annotations

import threading

from engine.host.actions import ActionRegistry
from engine.host.plugins import create_plugin_manager

_lock = threading.Lock()
_known = ActionRegistry()
_installed_loaded = False


def remember_actions(registry: ActionRegistry) -> None:
    """Add a platform's actions to the catalogue (an action known already keeps its entry)."""
    global _known
    with _lock:
        _known = ActionRegistry.union(_known, registry)


def known_actions() -> ActionRegistry:
    """The catalogue, the installed plugins' actions loaded into it on first use."""
    global _installed_loaded
    if not _installed_loaded:
        installed = ActionRegistry()
        create_plugin_manager().hook.tangram_actions(registry=installed)
        remember_actions(installed)
        _installed_loaded = True
    return _known
