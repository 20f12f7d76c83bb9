"""The one exception root of the rule engine, carrying what a person needs to fix the rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RuleError(ValueError):
    """A rule that cannot be compiled or run: position, stable code and nearest valid names.

    ``code`` is stable so the HTTP layer can translate it (see :mod:`rule_engine.messages`);
    ``line`` and ``column`` are 1-based and point into the rule text (0 when unknown).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        line: int = 0,
        column: int = 0,
        suggestions: Sequence[str] = (),
        params: dict[str, Any] | None = None,
        rule: str | None = None,
    ) -> None:
        self.message = message
        self.code = code
        self.line = line
        self.column = column
        self.suggestions = list(suggestions)
        self.params = dict(params or {})
        self.rule = rule
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line else ""
        prefix = f"rule {self.rule!r}: " if self.rule else ""
        hint = ""
        if self.suggestions:
            hint = " (did you mean " + " or ".join(f"`{s}`" for s in self.suggestions) + "?)"
        return f"{prefix}{where}{self.message}{hint}"

    def with_rule(self, rule: str) -> RuleError:
        """The same error, labelled with the name of the rule it belongs to."""
        return RuleError(
            self.message,
            code=self.code,
            line=self.line,
            column=self.column,
            suggestions=self.suggestions,
            params=self.params,
            rule=rule,
        )

    def to_dict(self) -> dict[str, Any]:
        """The error as one item of the HTTP error shape."""
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "suggestions": list(self.suggestions),
            "params": {k: str(v) for k, v in self.params.items()},
            "rule": self.rule,
        }


class RuleSetError(RuleError):
    """Every broken rule of a rule set at once, so the builder can show them all together."""

    def __init__(self, errors: Sequence[RuleError]) -> None:
        self.errors = list(errors)
        summary = "; ".join(str(e) for e in self.errors)
        super().__init__(
            f"{len(self.errors)} broken rule(s): {summary}",
            code="ruleset_invalid",
            params={"count": len(self.errors)},
        )

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["errors"] = [e.to_dict() for e in self.errors]
        return data
