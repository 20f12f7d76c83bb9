"""Per-entity value coercion compiled once: the hot path of every record write.

``compile_coercion`` generates one Python function per entity (source text built from the
field list, compiled with ``compile``/``exec`` over closure constants only, never over user
text): no loop over fields, no type dispatch, no allocation per record beyond the output dict.
Field types may contribute an inline fast path (``FieldType.inline``) for values that are
already canonical; everything else goes through the type's compiled coercer.

Two rules hold for every field here, before its type sees the value: text that is empty after
trimming is no value at all (``None``, so ``required`` catches it), and text no database can
store (NUL, a lone surrogate), at any depth of the value, is a problem of its own.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from form_engine.definitions import SYSTEM_FIELDS, EntityDef
from form_engine.errors import FieldValueError, Problem
from form_engine.storable_text import UNSTORABLE, code_point, unstorable_char, unstorable_in

MISSING: Any = object()

_Values = TypeVar("_Values", bound=dict[str, Any])

#: ``(data, partial) -> (values, relations or None, problems or None)``; values of the class
#: ``compile_coercion`` was given.
Coercion = Callable[[Mapping[str, Any], bool], tuple[_Values, dict[str, Any] | None, list[Problem] | None]]


def _unstorable(value: Any) -> FieldValueError | None:
    """The problem of a value holding text no database stores (checked at any depth)."""
    char = unstorable_char(value) if type(value) is str else next(iter(unstorable_in(value)), (None, None))[1]
    return None if char is None else FieldValueError("unstorable_text", char=code_point(char))


def _hint(name: str, candidates: list[str]) -> dict[str, str]:
    close = difflib.get_close_matches(name, candidates, n=1)
    if not close:
        return {"zh": "", "en": ""}
    return {"zh": f"（是否想写 {close[0]}？）", "en": f" (did you mean {close[0]}?)"}


class _Builder:
    """Collects generated lines and the constants they refer to (by generated names only)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.constants: dict[str, Any] = {}

    def const(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.constants)}"
        self.constants[name] = value
        return name

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)


def compile_coercion(entity: EntityDef, output: type[_Values]) -> Coercion[_Values]:
    """The entity's coercion function: type problems for every bad value, all at once.

    ``output`` is the class of the values dict (the runtime passes its ``ValidatedValues``).
    """
    b = _Builder()
    labels = {f.name: {"zh": f.label.zh, "en": f.label.en} for f in entity.fields}
    readonly = {f.name for f in entity.fields if not f.field_type.writable}
    names = [f.name for f in entity.fields]

    def fail(problems: list[Problem] | None, name: str, exc: FieldValueError) -> list[Problem]:
        problem = Problem(exc.problem_code, field=name, params={**exc.params, "label": labels[name]})
        if problems is None:
            return [problem]
        problems.append(problem)
        return problems

    def unknown(
        data: Mapping[str, Any], known: frozenset[str], problems: list[Problem] | None
    ) -> list[Problem]:
        problems = problems or []
        for name in data:
            if name in known:
                continue
            if name in readonly or name in SYSTEM_FIELDS:
                problems.append(Problem("not_writable", field=name, params={"label": labels.get(name, name)}))
            else:
                problems.append(
                    Problem("unknown_field", field=name, params={"hint": _hint(str(name), names)})
                )
        return problems

    accepted: list[str] = []
    b.emit(0, "def coerce(data, partial):")
    b.emit(1, "out = Out()")
    b.emit(1, "rel = None")
    b.emit(1, "problems = None")
    b.emit(1, "seen = 0")
    for f in entity.fields:
        ft = f.field_type
        if not ft.writable:
            continue
        accepted.append(f.name)
        key = repr(f.name)
        target = "out" if ft.storage == "column" else "rel"
        coercer = b.const("c", ft.compile_coercer(f))
        b.emit(1, f"v = data.get({key}, MISSING)")
        b.emit(1, "if v is not MISSING:")
        b.emit(2, "seen += 1")
        if target == "rel":
            b.emit(2, "if rel is None: rel = {}")
        blank = " or (type(v) is str and (not v or v.isspace()))" if ft.blank_is_missing else ""
        b.emit(2, f"if v is None{blank}:")
        b.emit(3, f"{target}[{key}] = None")
        b.emit(2, "elif SEARCH(v) is not None if type(v) is str else type(v) in NESTED and unstorable(v):")
        b.emit(3, f"problems = fail(problems, {key}, unstorable(v))")
        inline = ft.inline(f)
        if inline is not None and target == "out":
            condition, value, constants = inline
            mapping = {name: b.const("k", constant) for name, constant in constants.items()}
            b.emit(2, f"elif {condition.format(**mapping)}:")
            b.emit(3, f"out[{key}] = {value.format(**mapping)}")
        b.emit(2, "else:")
        b.emit(3, "try:")
        b.emit(4, f"{target}[{key}] = {coercer}(v)")
        b.emit(3, "except FieldValueError as e:")
        b.emit(4, f"problems = fail(problems, {key}, e)")
        if ft.storage == "column" and f.default is not None:
            default = b.const("d", ft.coerce(f.default, f))
            b.emit(1, "elif not partial:")
            b.emit(2, f"out[{key}] = {default}")
    b.emit(1, "if seen != len(data):")
    b.emit(2, "problems = unknown(data, ACCEPTED, problems)")
    b.emit(1, "return out, rel, problems")
    source = "\n".join(b.lines) + "\n"
    namespace: dict[str, Any] = {
        **b.constants,
        "MISSING": MISSING,
        "Out": output,
        "FieldValueError": FieldValueError,
        "fail": fail,
        "unknown": unknown,
        "unstorable": _unstorable,
        "SEARCH": UNSTORABLE.search,
        "NESTED": (dict, list),
        "ACCEPTED": frozenset(accepted),
    }
    exec(compile(source, f"<coercion of {entity.name}>", "exec"), namespace)
    function: Coercion[_Values] = namespace["coerce"]
    function.__doc__ = source
    return function
