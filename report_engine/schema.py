"""The JSON Schemas of a report and of a dashboard: one item of the package's ``reports`` and
``dashboards`` sections, published in ``/api/schema/app``."""

from __future__ import annotations

from typing import Any

SHAPES = ("table", "summary", "matrix", "funnel", "kpi", "cohort")
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max")
BUCKETS = ("day", "week", "month", "quarter", "year")
CHARTS = ("table", "bar", "stacked_bar", "line", "area", "pie", "funnel", "kpi_card", "heat_map")
COMPARISONS = ("previous", "year_ago")
RELATIVE_PERIODS = (
    "today",
    "yesterday",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "last_7_days",
    "last_30_days",
    "last_12_months",
    "month_to_date",
    "quarter_to_date",
    "year_to_date",
)
#: Runtime parameters a dashboard passes to all its reports; a report binds each to a field.
PARAMETER_KINDS = ("period", "value", "user", "department")

NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"}
LABEL = {
    "type": "object",
    "properties": {"zh": {"type": "string", "minLength": 1}, "en": {"type": "string", "minLength": 1}},
    "required": ["zh", "en"],
    "additionalProperties": False,
}
PATH = {
    "type": "string",
    "pattern": r"^[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*(\.[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff]*)*$",
}
DSL = {"type": "string", "minLength": 1, "maxLength": 4000}

DIMENSION: dict[str, Any] = {
    "type": "object",
    "description": "A field (or a lookup's field, a.b.c) to group by; dates bucketed.",
    "properties": {
        "field": PATH,
        "label": LABEL,
        "bucket": {"enum": list(BUCKETS)},
        "top": {"type": "integer", "minimum": 1, "maximum": 1000},
        "others": {"type": "boolean", "description": "fold groups past top into one (default true)"},
    },
    "required": ["field"],
    "additionalProperties": False,
}

MEASURE: dict[str, Any] = {
    "type": "object",
    "description": "An aggregate of a field or a row expression, or a formula over other measures.",
    "properties": {
        "name": NAME,
        "label": LABEL,
        "agg": {"enum": list(AGGREGATES)},
        "field": PATH,
        "expression": DSL,
        "filter": DSL,
        "formula": DSL,
        "scale": {"type": "integer", "minimum": 0, "maximum": 12},
        "format": {"enum": ["number", "integer", "currency", "percent"]},
        "percent_of_total": {"type": "boolean"},
        "running_total": {"type": "boolean"},
    },
    "required": ["name"],
    "oneOf": [{"required": ["agg"]}, {"required": ["formula"]}],
    "additionalProperties": False,
}

PARAMETER: dict[str, Any] = {
    "type": "object",
    "properties": {"field": PATH, "kind": {"enum": list(PARAMETER_KINDS)}},
    "required": ["field"],
    "additionalProperties": False,
}

REPORT: dict[str, Any] = {
    "type": "object",
    "description": "A report: a source entity, filters, dimensions, measures and a shape.",
    "properties": {
        "name": NAME,
        "label": LABEL,
        "entity": NAME,
        "shape": {"enum": list(SHAPES)},
        "filter": DSL,
        "parameters": {"type": "object", "additionalProperties": PARAMETER, "maxProperties": 20},
        "period": {"enum": list(RELATIVE_PERIODS)},
        "rows": {"type": "array", "items": DIMENSION, "maxItems": 4},
        "columns": {"type": "array", "items": DIMENSION, "maxItems": 2},
        "measures": {"type": "array", "items": MEASURE, "maxItems": 30},
        "compare": {"type": "array", "items": {"enum": list(COMPARISONS)}, "uniqueItems": True},
        "fields": {"type": "array", "items": PATH, "maxItems": 100},
        "sort": {"type": "string", "maxLength": 200},
        "limit": {"type": "integer", "minimum": 1, "maximum": 100000},
        "stages": {
            "type": "object",
            "properties": {
                "field": PATH,
                "values": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "amount": PATH,
                "cumulative": {"type": "boolean"},
            },
            "required": ["field"],
            "additionalProperties": False,
        },
        "cohort": {
            "type": "object",
            "properties": {
                "subject": PATH,
                "date": PATH,
                "value": PATH,
                "periods": {"type": "integer", "minimum": 1, "maximum": 120},
            },
            "required": ["subject", "date"],
            "additionalProperties": False,
        },
        "chart": {
            "type": "object",
            "properties": {"type": {"enum": list(CHARTS)}},
            "additionalProperties": False,
        },
    },
    "required": ["name", "entity", "shape"],
    "additionalProperties": False,
}

DASHBOARD: dict[str, Any] = {
    "type": "object",
    "description": "A grid of reports with shared filters; the default for the roles it names.",
    "properties": {
        "name": NAME,
        "label": LABEL,
        "filters": {"type": "object", "description": "shared parameter values (period, owner...)"},
        "default_for": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "items": {
            "type": "array",
            "maxItems": 40,
            "items": {
                "type": "object",
                "properties": {
                    "report": NAME,
                    "x": {"type": "integer", "minimum": 0, "maximum": 23},
                    "y": {"type": "integer", "minimum": 0},
                    "w": {"type": "integer", "minimum": 1, "maximum": 24},
                    "h": {"type": "integer", "minimum": 1, "maximum": 48},
                    "params": {"type": "object"},
                },
                "required": ["report", "x", "y", "w", "h"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "items"],
    "additionalProperties": False,
}
