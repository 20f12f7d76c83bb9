"""The one exception root of the rule engine, carrying what a person needs to fix the rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rule_engine import messages

CODES: tuple[str, ...] = (
    "syntax",
    "bad_escape",
    "too_long",
    "too_deep",
    "unknown_field",
    "unknown_function",
    "unknown_option",
    "unknown_name",
    "not_a_lookup",
    "unknown_relation",
    "not_a_link",
    "quantifier_body",
    "arity",
    "type_mismatch",
    "null_comparison",
    "bad_literal",
    "regex_invalid",
    "regex_unsafe",
    "invalid_field_map",
    "sql_unsupported",
    "missing_column",
    "loader_required",
    "related_required",
    "missing_relation",
    "invalid_rule",
    "ruleset_invalid",
)
"""Every stable ``RuleError.code``; each has a zh and an en template in :data:`messages.MESSAGES`."""


class LocalizedMessage(str):
    """``RuleError.message``: the bare English sentence, and callable for the full text in a locale.

    Read as a string it is what ``message`` has always been (no position, no hint), so callers that
    format ``exc.message`` keep working; ``exc.message("zh")`` is the whole text in Chinese with the
    position and the "did you mean" hint, ``exc.message("en")`` (the default) equals ``str(exc)``.
    """

    _localized: Callable[[str], str]

    def __new__(cls, text: str, localized: Callable[[str], str]) -> LocalizedMessage:
        obj = super().__new__(cls, text)
        obj._localized = localized
        return obj

    def __call__(self, locale: str = "en") -> str:
        return self._localized(locale)

    def __reduce__(self) -> tuple[Any, ...]:
        return (str, (str(self),))


class RuleError(ValueError):
    """A rule that cannot be compiled or run: position, stable code and nearest valid names.

    ``code`` is stable so callers can translate it; :meth:`message` does, from ``params`` and the
    templates of :mod:`rule_engine.messages`. ``line`` and ``column`` are 1-based and point into
    the rule text (0 when unknown). Without ``text`` the English sentence is the code's template.
    """

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str,
        line: int = 0,
        column: int = 0,
        suggestions: Sequence[str] = (),
        params: dict[str, Any] | None = None,
        rule: str | None = None,
    ) -> None:
        self.code = code
        self.line = line
        self.column = column
        self.suggestions = list(suggestions)
        self.params = dict(params or {})
        self.rule = rule
        self.text = message if message is not None else messages.render(code, self._values("en"), "en")
        super().__init__(self._render())

    @property
    def message(self) -> LocalizedMessage:
        """The bare English sentence; call it, ``exc.message("zh")``, for the full text in a locale."""
        return LocalizedMessage(self.text, self.localized)

    def localized(self, locale: str = "en") -> str:
        """The full text in ``locale`` ("zh..." is Chinese, anything else English, equal to ``str``)."""
        lang = messages.language(locale)
        text = self.text
        if lang != "en":
            try:
                text = messages.render(self.code, self._values(lang), lang)
            except (KeyError, IndexError, ValueError):
                text = self.text  # an error built elsewhere without the params its template needs
        return messages.decorate(
            text, lang, line=self.line, column=self.column, suggestions=self.suggestions, rule=self.rule
        )

    def _values(self, lang: str) -> dict[str, Any]:
        """What the templates are filled from: the params, plus anything that depends on ``lang``."""
        return self.params

    def _render(self) -> str:
        return self.localized("en")

    def with_rule(self, rule: str) -> RuleError:
        """The same error, labelled with the name of the rule it belongs to."""
        return RuleError(
            self.text,
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
            "message": self.text,
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
        super().__init__(code="ruleset_invalid", params={"count": len(self.errors)})

    def _values(self, lang: str) -> dict[str, Any]:
        separator = "；" if lang == "zh" else "; "
        return {**self.params, "summary": separator.join(e.localized(lang) for e in self.errors)}

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        data["errors"] = [e.to_dict() for e in self.errors]
        return data
