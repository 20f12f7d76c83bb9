"""``compile`` and the compiled ``Expression``: one parse and type check, two backends."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rule_engine import python_backend, sql_backend
from rule_engine.errors import RuleError
from rule_engine.interpreter import interpret
from rule_engine.nodes import Node
from rule_engine.parser import parse
from rule_engine.runtime import Loader
from rule_engine.type_checker import Checked, check
from rule_engine.types import FieldMap, freeze_field_map, validate_field_map

CACHE_SIZE = 2048


class Expression:
    """A checked rule. ``evaluate`` and ``matches`` are the generated functions themselves.

    ``evaluate(record, *, now=None, old=None, loader=None)`` returns the value (None when
    unknown); ``matches(...)`` the same with unknown counted as no match, exactly the rows a SQL
    ``WHERE`` would select.
    """

    __slots__ = ("_checked", "ast_node", "evaluate", "fields", "matches", "source", "text", "type")

    def __init__(self, text: str, root: Node, checked: Checked) -> None:
        self.text = text
        self.ast_node = root
        self._checked = checked
        self.type: str = checked.type_of(root)
        self.fields: frozenset[str] = frozenset(checked.fields)
        self.evaluate, self.matches, self.source = python_backend.build(root, checked)

    @property
    def ast(self) -> dict[str, Any]:
        """The AST as JSON-serialisable data, for the builder UI."""
        return self.ast_node.to_dict()

    def to_sql(self, columns: sql_backend.Columns, *, now: datetime | None = None) -> Any:
        """The same rule as a SQLAlchemy expression; dotted paths come from ``columns`` too."""
        return sql_backend.to_sql(self.ast_node, self._checked, columns, now)

    def interpret(
        self,
        record: Mapping[str, Any],
        *,
        now: datetime | None = None,
        old: Mapping[str, Any] | None = None,
        loader: Loader | None = None,
    ) -> Any:
        """The reference tree-walking evaluation (slow; tests compare it with ``evaluate``)."""
        return interpret(self._checked, self.ast_node, record, now=now, old=old, loader=loader)

    def __repr__(self) -> str:
        return f"Expression({self.text!r}, type={self.type!r})"


_cache: OrderedDict[tuple[str, tuple, str | None], Expression] = OrderedDict()
_cache_lock = threading.Lock()


def compile(text: str, fields: FieldMap, *, expect: str | None = None) -> Expression:
    """Parse, type-check and compile ``text`` against ``fields``; cached by text and field map.

    ``expect`` (e.g. ``"boolean"``) refuses an expression of another type at compile time.
    """
    validate_field_map(fields)
    key = (text, freeze_field_map(fields), expect) if isinstance(text, str) else None
    if key is not None:
        with _cache_lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found
    root = parse(text)
    checked = check(root, fields)
    result_type = checked.type_of(root)
    if expect is not None and result_type != expect and not (expect == "number" and result_type == "integer"):
        raise RuleError(
            f"found an expression of type {result_type}, expected {expect}",
            code="type_mismatch",
            line=root.line,
            column=root.column,
            params={"found": result_type, "expected": expect},
        )
    try:
        expression = Expression(text, root, checked)
    except (RecursionError, MemoryError, SyntaxError) as exc:  # pragma: no cover - guarded above
        raise RuleError(
            "found an expression too complex to compile, expected a simpler rule",
            code="too_deep",
            line=1,
            column=1,
        ) from exc
    assert key is not None
    with _cache_lock:
        _cache[key] = expression
        if len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return expression
