"""The browser app: pages generated from an app package's metadata (navigation, lists, the
record page, forms, kanban, dashboards), served as a kernel plugin.

Pages are Jinja2 shells; the browser fills them by calling the kernel's HTTP API with the
session cookie, so permissions, validation and history have one enforcement point.
"""

from builder_ui.messages import UI_MESSAGES
from builder_ui.plugin import tangram_routes, tangram_startup

__all__ = ["UI_MESSAGES", "tangram_routes", "tangram_startup"]
