"""The plugin host: pluggy, with plugins found through the ``tangram.plugins`` entry points."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from engine.host import hookspecs

ENTRY_POINT_GROUP = "tangram.plugins"


def create_plugin_manager(
    extra_plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A manager with every installed plugin plus ``extra_plugins`` (tests, embedding apps)."""
    pm = pluggy.PluginManager("tangram")
    pm.add_hookspecs(hookspecs)
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin)
    return pm
