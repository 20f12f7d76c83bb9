"""The report engine's errors: the kernel's classes (so HTTP maps their codes and statuses),
pointed at this package's catalogue."""

from __future__ import annotations

from engine import Conflict, Forbidden, InvalidInput, NotFound
from report_engine.messages import MESSAGES


class ReportInvalid(InvalidInput):
    """A definition or a run's parameters that cannot be compiled (422, every problem listed)."""

    catalogue = MESSAGES


class ReportNotFound(NotFound):
    catalogue = MESSAGES


class ReportStale(Conflict):
    """A saved report whose entities changed under it (409, the parts that no longer resolve)."""

    code = "report_stale"
    catalogue = MESSAGES


class ReportForbidden(Forbidden):
    """A report that would show a field the caller may not see (403, the fields named)."""

    catalogue = MESSAGES
