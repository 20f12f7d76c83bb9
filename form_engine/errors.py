"""Form-engine exceptions: each carries the field and what a person must change."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from form_engine.messages import render


class FormError(ValueError):
    """Root of every form-engine error."""

    code = "form_error"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located by field name or JSON pointer."""

    code: str
    field: str | None = None
    pointer: str | None = None
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Position inside a rule-DSL text the problem is about (1-based), when there is one.
    line: int | None = None
    column: int | None = None

    def message(self, locale: str = "en") -> str:
        lang = "zh" if locale.startswith("zh") else "en"
        params = {
            key: value[lang] if isinstance(value, dict) and lang in value else value
            for key, value in self.params.items()
        }
        params.setdefault("label", self.field or "")
        params.setdefault("field", self.field or "")
        return render(self.code, locale, params)

    def to_dict(self, locale: str = "en") -> dict[str, Any]:
        location = self.pointer if self.pointer is not None else f"/{self.field or ''}"
        out: dict[str, Any] = {"code": self.code, "pointer": location, "message": self.message(locale)}
        if self.field is not None:
            out["field"] = self.field
        if self.line is not None:
            out["line"] = self.line
            out["column"] = self.column
        return out


class FieldValueError(FormError):
    """A single value that its field type refuses; the validator adds the field name."""

    code = "invalid_value"

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.problem_code = code
        self.params = params


class RecordInvalid(FormError):
    """A record with one or more bad values; lists all of them together."""

    code = "record_invalid"

    def __init__(self, problems: list[Problem], locale: str = "en") -> None:
        super().__init__("; ".join(p.message(locale) for p in problems))
        self.problems = problems
        self.locale = locale

    def to_dicts(self, locale: str | None = None) -> list[dict[str, Any]]:
        """Every problem in the shared error shape, in ``locale`` (default: the request's)."""
        return [p.to_dict(locale or self.locale) for p in self.problems]


class DefinitionInvalid(FormError):
    """An entity or form definition that is not internally consistent."""

    code = "definition_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.pointer}: {p.message()}" for p in problems))
        self.problems = problems
