"""The plugin's errors: the kernel's error classes, worded from the plugin's own catalogue, so
they reach the browser in the kernel's one error shape and status."""

from __future__ import annotations

from builder_ui.messages import ERRORS
from engine import Forbidden, InvalidInput, NotFound


class UiInputError(InvalidInput):
    catalogue = ERRORS


class UiForbidden(Forbidden):
    catalogue = ERRORS


class UiNotFound(NotFound):
    catalogue = ERRORS
