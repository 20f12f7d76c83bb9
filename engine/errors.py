"""The kernel's exceptions. Each has a stable code; the HTTP layer maps codes to status and text.

Errors carry ``problems``: every thing wrong with the input, each with a JSON pointer, so a
person (or a form) can fix them all in one go.
"""

from __future__ import annotations

from typing import Any

from form_engine import Problem


class TangramError(Exception):
    """Root of the kernel's errors."""

    code = "error"
    status = 400

    def __init__(
        self,
        en: str,
        zh: str | None = None,
        *,
        problems: list[Problem] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh or en
        self.problems = problems or []
        self.details = details or {}
        #: An audit entry to write after the failed transaction rolled back
        #: (``audit.record_apart(engine, **entry)``), e.g. a permission denial.
        self.audit: dict[str, Any] | None = None

    def message(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


class InvalidInput(TangramError):
    """The request body or a parameter does not fit what is expected."""

    code = "invalid_input"
    status = 422


class InvalidPackage(InvalidInput):
    code = "invalid_package"


class NotFound(TangramError):
    code = "not_found"
    status = 404


class Conflict(TangramError):
    code = "conflict"
    status = 409


class DuplicateValue(Conflict):
    """A unique field or field set already holds this value in another record."""

    code = "duplicate_value"


class StaleVersion(Conflict):
    """The record changed since the client read it; nothing was overwritten."""

    code = "stale_version"


class MigrationRefused(Conflict):
    """A schema change would lose or corrupt data; the rows in the way are listed."""

    code = "migration_refused"


class Unauthenticated(TangramError):
    code = "unauthenticated"
    status = 401


class Forbidden(TangramError):
    code = "forbidden"
    status = 403


class TooManyAttempts(TangramError):
    code = "too_many_attempts"
    status = 429
