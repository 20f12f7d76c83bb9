"""Per-entity validators compiled once: the hot path of every record write."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from form_engine.definitions import SYSTEM_FIELDS, EntityDef, FieldDef
from form_engine.errors import FieldValueError, Problem, RecordInvalid
from form_engine.field_types.base import Coercer


def _hint(name: str, candidates: list[str]) -> dict[str, str]:
    close = difflib.get_close_matches(name, candidates, n=1)
    if not close:
        return {"zh": "", "en": ""}
    return {"zh": f"（是否想写 {close[0]}？）", "en": f" (did you mean {close[0]}?)"}


class RecordValidator:
    """Coerces and checks the values of one entity's records.

    Built once per entity version: the per-field coercers are closures over each type's
    settings, so validating a record is one dictionary pass with no type dispatch.
    """

    def __init__(self, entity: EntityDef) -> None:
        self.entity = entity
        self._coercers: dict[str, Coercer] = {}
        self._labels: dict[str, dict[str, str]] = {}
        self._readonly: set[str] = set()
        self._required: list[FieldDef] = []
        self._defaults: dict[str, Any] = {}
        for f in entity.fields:
            ft = f.field_type
            self._labels[f.name] = {"zh": f.label.zh, "en": f.label.en}
            if not ft.writable or ft.storage != "column":
                self._readonly.add(f.name)
                continue
            coercer = ft.compile_coercer(f)
            self._coercers[f.name] = coercer
            if f.required:
                self._required.append(f)
            if f.default is not None:
                self._defaults[f.name] = coercer(f.default)
        self._names = [f.name for f in entity.fields]

    def validate(self, data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Return coerced values, or raise ``RecordInvalid`` listing every problem.

        ``partial`` is for updates: absent fields keep their value and defaults do not apply.
        """
        coercers = self._coercers
        out: dict[str, Any] = {}
        problems: list[Problem] | None = None
        for name, value in data.items():
            coercer = coercers.get(name)
            if coercer is None:
                problems = problems or []
                problems.append(self._unknown(name))
                continue
            if value is None:
                out[name] = None
                continue
            try:
                out[name] = coercer(value)
            except FieldValueError as exc:
                problems = problems or []
                problems.append(
                    Problem(
                        exc.problem_code,
                        field=name,
                        params={**exc.params, "label": self._labels[name]},
                    )
                )
        if not partial:
            for name, value in self._defaults.items():
                if name not in data:
                    out[name] = value
        for f in self._required:
            if out.get(f.name, 0 if partial and f.name not in data else None) is None:
                if partial and f.name not in data:
                    continue
                problems = problems or []
                problems.append(Problem("required", field=f.name, params={"label": self._labels[f.name]}))
        if problems:
            raise RecordInvalid(problems)
        return out

    def _unknown(self, name: str) -> Problem:
        if name in self._readonly or name in SYSTEM_FIELDS:
            return Problem("not_writable", field=name, params={"label": self._labels.get(name, name)})
        return Problem("unknown_field", field=name, params={"hint": _hint(name, self._names)})


def compile_validator(entity: EntityDef) -> RecordValidator:
    return RecordValidator(entity)
