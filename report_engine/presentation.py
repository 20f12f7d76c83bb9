"""How results are shown: dimension labels in the caller's language, groups in their natural
order (select options in option order, dates in time order, the empty group and "others"
last), JSON values (exact decimals as strings), column descriptors and the chart hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from report_engine import buckets
from report_engine.aggregates import CompiledMeasure
from report_engine.definitions import Dimension, Measure, Report

#: The value of the group that folds everything past a dimension's top N.
OTHERS = "__others__"
EMPTY_LABEL = {"zh": "（空）", "en": "(empty)"}
OTHERS_LABEL = {"zh": "其他", "en": "Others"}
BOOLEAN_LABELS = {True: {"zh": "是", "en": "Yes"}, False: {"zh": "否", "en": "No"}}


def lang(locale: str) -> str:
    return "zh" if locale.startswith("zh") else "en"


@dataclass
class Labeller:
    """Labels of dimension values for one caller; people's names are read once per run."""

    locale: str
    users: dict[int, str] = field(default_factory=dict)
    departments: dict[int, str] = field(default_factory=dict)

    def label(self, d: Dimension, value: Any) -> str:
        language = lang(self.locale)
        if value is None:
            return EMPTY_LABEL[language]
        if value == OTHERS:
            return OTHERS_LABEL[language]
        if d.bucket:
            day = buckets.as_date(value)
            return buckets.label(day, d.bucket) if day is not None else str(value)
        if d.path.kind == "select":
            for option in d.path.options:
                if option.value == value:
                    return str(option.label.text(self.locale))
        if d.path.dsl_type == "boolean":
            return BOOLEAN_LABELS[bool(value)][language]
        if d.path.kind == "user" and value in self.users:
            return self.users[value]
        if d.path.kind == "department" and value in self.departments:
            return self.departments[value]
        return str(to_json(value))


def sort_key(d: Dimension, value: Any) -> tuple[Any, ...]:
    if value == OTHERS:
        return (3,)
    if value is None:
        return (2,)
    if d.path.kind == "select":
        order = [o.value for o in d.path.options]
        return (0, order.index(value) if value in order else len(order), str(value))
    if d.bucket:
        return (0, buckets.as_date(value))
    if isinstance(value, str):
        return (1, value)
    return (0, value)


def to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def dim_value(d: Dimension, value: Any) -> Any:
    """A dimension's value as JSON: a date bucket as its first day."""
    if d.bucket and value is not None and value != OTHERS:
        day = buckets.as_date(value)
        return day.isoformat() if day is not None else value
    return to_json(value)


def _label(label: Any, fallback: str, locale: str) -> str:
    return str(label.text(locale)) if label is not None else fallback


def dimension_column(d: Dimension, locale: str) -> dict[str, Any]:
    field_label = d.path.field.label.text(locale) if d.path.field is not None else d.path.name
    fmt = "date" if d.bucket else (d.path.dsl_type or "text")
    return {
        "name": d.key,
        "label": _label(d.label, str(field_label), locale),
        "role": "dimension",
        "type": fmt,
    }


def measure_column(m: Measure, compiled: CompiledMeasure | None, locale: str) -> dict[str, Any]:
    scale: int | None
    if compiled is None:
        fmt, scale, currency = (m.format or "number"), (4 if m.scale is None else m.scale), None
    else:
        fmt, scale, currency = compiled.format, compiled.scale, compiled.currency
    out: dict[str, Any] = {
        "name": m.name,
        "label": _label(m.label, m.name, locale),
        "role": "measure",
        "type": fmt,
    }
    if scale is not None:
        out["scale"] = scale
    if currency:
        out["currency"] = currency
    return out


def derived_column(name: str, label: dict[str, str], base: str, locale: str, fmt: str) -> dict[str, Any]:
    return {"name": name, "label": f"{base} {label[lang(locale)]}", "role": "measure", "type": fmt}


DEFAULT_CHARTS = {
    "table": "table",
    "summary": "bar",
    "matrix": "stacked_bar",
    "funnel": "funnel",
    "kpi": "kpi_card",
    "cohort": "heat_map",
}


def chart_hint(report: Report) -> dict[str, Any]:
    """The chart a UI should draw and which columns play which axis role."""
    kind = report.chart or DEFAULT_CHARTS[report.shape]
    if report.shape == "summary" and report.chart is None and report.rows and report.rows[0].bucket:
        kind = "line"
    measures = [m.name for m in report.measures]
    x = report.rows[0].key if report.rows else None
    series = (
        report.columns[0].key if report.columns else (report.rows[1].key if len(report.rows) > 1 else None)
    )
    hint: dict[str, Any] = {
        "type": kind,
        "x": x,
        "y": measures[:1] if kind == "pie" else measures,
        "series": series,
    }
    if report.shape == "funnel":
        hint.update(x="stage", y=["count"], series=None)
    elif report.shape == "cohort":
        hint.update(x="age", y=["retention"], series="cohort")
    elif report.shape == "kpi":
        hint.update(x=None, series=None)
    return hint
