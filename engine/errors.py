"""The kernel's exceptions. Each has a stable code; the HTTP layer maps codes to status and text.

Errors carry ``problems``: every thing wrong with the input, each with a JSON pointer, so a
person (or a form) can fix them all in one go. Their text lives in :mod:`engine.messages`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from engine import messages
from form_engine import Problem


class TangramError(Exception):
    """Root of the kernel's errors: a stable ``code`` and a message from the catalogue.

    A raise site names the message's key in :data:`engine.messages.MESSAGES` and passes the
    template's params as keywords; ``problems`` and ``details`` are reserved for the error::

        raise NotFound("user_not_found", user_id=7)

    ``code`` and ``status`` belong to the class, never to the message: one key may be raised as
    a 404 in one place and a 422 in another. A subclass may set ``catalogue`` to its own
    package's templates (same shape as :data:`~engine.messages.MESSAGES`).
    """

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    catalogue: ClassVar[Mapping[str, Mapping[str, str]]] = messages.MESSAGES

    def __init__(
        self,
        key: str,
        /,
        *,
        problems: Iterable[Problem] | None = None,
        details: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if key not in self.catalogue:
            raise KeyError(f"no message {key!r} in the catalogue of {type(self).__name__}")
        #: The message's key in ``catalogue``.
        self.key = key
        self.params: dict[str, Any] = dict(params)
        self.problems: list[Problem] = list(problems or [])
        self.details: dict[str, Any] = dict(details or {})
        #: An audit entry to write after the failed transaction rolled back
        #: (``audit.record_apart(engine, **entry)``), e.g. a permission denial.
        self.audit: dict[str, Any] | None = None
        super().__init__(self.message("en"))

    def message(self, locale: str | None = "en") -> str:
        """The message in ``locale`` (any Chinese locale gives Chinese, anything else English)."""
        return messages.render(self.key, messages.language(locale), self.params, self.catalogue)

    def __reduce__(self) -> tuple[Any, ...]:
        # Copied and pickled from its state: ``args`` holds the English text, not the key.
        return (_rebuild, (type(self), dict(self.__dict__)))


def _rebuild(cls: type[TangramError], state: dict[str, Any]) -> TangramError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error.message("en"))
    return error


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
