"""The plugin host: pluggy, with plugins found through the ``tangram.plugins`` entry points.

The kernel's own contributions (its write steps) are registered as plugins too, first, the way
datasette registers its ``DEFAULT_PLUGINS``: nothing the kernel does is out of a plugin's reach.
"""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from engine.apps.sections import sections
from engine.host import hookspecs
from engine.host.hookspecs import hookimpl
from engine.records import WriteStep, default_steps

ENTRY_POINT_GROUP = "tangram.plugins"


class KernelSteps:
    """The kernel's write steps, contributed through ``tangram_write_steps``; they run first,
    so a plugin's step sees auto-numbers, children and roll-ups in place."""

    def __init__(self) -> None:
        self.steps = default_steps()  # stateless: built once, not for every write

    @hookimpl(tryfirst=True)
    def tangram_write_steps(self) -> list[WriteStep]:
        return self.steps


def create_plugin_manager(
    extra_plugins: Iterable[object] = (), *, load_entry_points: bool = True
) -> pluggy.PluginManager:
    """A manager with the kernel's plugins, every installed plugin and ``extra_plugins``
    (tests, embedding apps)."""
    pm = pluggy.PluginManager("tangram")
    pm.add_hookspecs(hookspecs)
    pm.register(KernelSteps(), name="tangram.kernel_steps")
    if load_entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra_plugins:
        pm.register(plugin)
    for provided in pm.hook.tangram_package_sections():
        for section in provided or ():
            sections.register(section)
    return pm
