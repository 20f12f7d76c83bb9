"""The report engine: reports and dashboards as app-package data, compiled to SQL and run under
each caller's permissions; results cached until the records they read change; CSV and XLSX
exports.

A kernel plugin (entry point ``report_engine`` in the ``tangram.plugins`` group); it imports the
kernel's public API only, and the kernel never imports it.
"""

from report_engine.cache import ResultCache
from report_engine.definitions import Report, analyse
from report_engine.errors import ReportForbidden, ReportInvalid, ReportNotFound, ReportStale
from report_engine.messages import MESSAGES, PROBLEMS
from report_engine.plugin import service_of
from report_engine.schema import DASHBOARD, REPORT
from report_engine.service import ReportService

__all__ = [
    "DASHBOARD",
    "MESSAGES",
    "PROBLEMS",
    "REPORT",
    "Report",
    "ReportForbidden",
    "ReportInvalid",
    "ReportNotFound",
    "ReportService",
    "ReportStale",
    "ResultCache",
    "analyse",
    "service_of",
]
