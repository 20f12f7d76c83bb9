"""A report definition analysed against its app: every path resolved, every DSL text checked,
every shape's needs met, or every problem listed with its JSON pointer.

The package check at save and the compiler at run time both call :func:`analyse`, so a report
that saved compiles, and one whose entities changed since says which parts no longer resolve.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rule_engine
from engine import AppPackage
from form_engine import EntityDef, Label, Problem, dsl_fields
from report_engine.fields import ResolvedPath, resolve
from report_engine.messages import did_you_mean, report_problem

_NUMERIC_AGGS = ("sum", "avg")
_ORDERED_AGGS = ("min", "max")


@dataclass(frozen=True)
class Dimension:
    path: ResolvedPath
    pointer: str
    bucket: str | None = None
    label: Label | None = None
    top: int | None = None
    others: bool = True

    @property
    def key(self) -> str:
        """The dimension's column name in a result: the path, with the bucket after a colon."""
        return f"{self.path.path}:{self.bucket}" if self.bucket else self.path.path


@dataclass(frozen=True)
class Measure:
    name: str
    pointer: str
    agg: str | None = None
    path: ResolvedPath | None = None
    expression: str | None = None
    filter: str | None = None
    formula: str | None = None
    scale: int | None = None
    format: str | None = None
    label: Label | None = None
    percent_of_total: bool = False
    running_total: bool = False

    @property
    def decomposable(self) -> bool:
        """Whether totals can be computed from group values (count distinct cannot)."""
        return self.formula is not None or self.agg != "count_distinct"


@dataclass(frozen=True)
class Parameter:
    name: str
    path: ResolvedPath
    kind: str


@dataclass(frozen=True)
class Report:
    """An analysed report: what the compiler needs, nothing left to resolve."""

    name: str
    entity: str
    shape: str
    source: dict[str, Any]
    label: Label | None = None
    filter: str | None = None
    period: str | None = None
    rows: tuple[Dimension, ...] = ()
    columns: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    parameters: dict[str, Parameter] = field(default_factory=dict)
    compare: tuple[str, ...] = ()
    fields: tuple[ResolvedPath, ...] = ()
    sort: str | None = None
    limit: int | None = None
    stages: dict[str, Any] = field(default_factory=dict)
    cohort: dict[str, Any] = field(default_factory=dict)
    chart: str | None = None
    #: summary and matrix: groups ordered by this measure (name, descending) instead of by
    #: their own values; top N then keeps the first N in that order
    order_by: tuple[str, bool] | None = None

    def paths(self) -> list[tuple[ResolvedPath, str, str]]:
        """Every field path the report reads, with its pointer and use (``dimension``,
        ``value``, ``count``, ``filter``), for the permission check."""
        out: list[tuple[ResolvedPath, str, str]] = []
        for d in (*self.rows, *self.columns):
            out.append((d.path, d.pointer + "/field", "dimension"))
        for m in self.measures:
            if m.path is not None:
                use = "count" if m.agg in ("count", "count_distinct") else "value"
                out.append((m.path, m.pointer + "/field", use))
        for p in self.parameters.values():
            out.append((p.path, f"/parameters/{p.name}/field", "filter"))
        for i, f in enumerate(self.fields):
            out.append((f, f"/fields/{i}", "value"))
        for key in ("field", "amount"):
            if key in self.stages:
                out.append((self.stages[key], f"/stages/{key}", "dimension" if key == "field" else "value"))
        for key in ("subject", "date", "value"):
            if key in self.cohort:
                out.append((self.cohort[key], f"/cohort/{key}", "dimension" if key != "value" else "value"))
        return out


class Analysis:
    """Collects problems while a definition is resolved against a package."""

    def __init__(self, package: AppPackage, data: dict[str, Any]) -> None:
        self.package = package
        self.data = data
        self.problems: list[Problem] = []
        self.entity: EntityDef | None = None

    def resolver(self, name: str) -> EntityDef | None:
        return self.package.entity(name) if self.package.has_entity(name) else None

    def path(self, text: str, pointer: str) -> ResolvedPath | None:
        assert self.entity is not None
        found = resolve(self.entity, text, self.resolver, pointer)
        if isinstance(found, Problem):
            self.problems.append(found)
            return None
        return found

    def dsl(self, text: str, pointer: str, fields: Any, expect: str | None) -> bool:
        try:
            rule_engine.compile(text, fields, expect=expect)
        except rule_engine.RuleError as exc:
            detail = {"zh": exc.message("zh"), "en": exc.message("en")}
            self.problems.append(
                Problem(
                    "report_dsl", pointer=pointer, params={"detail": detail}, line=exc.line, column=exc.column
                )
            )
            return False
        return True

    def entity_fields(self) -> Any:
        assert self.entity is not None
        return dsl_fields(self.entity, self.resolver)

    def dimension(self, raw: dict[str, Any], pointer: str) -> Dimension | None:
        path = self.path(raw["field"], pointer + "/field")
        if path is None:
            return None
        bucket = raw.get("bucket")
        if bucket and not path.is_date:
            self.problems.append(
                report_problem(
                    "report_bucket_needs_date",
                    pointer + "/bucket",
                    bucket=bucket,
                    name=path.path,
                    kind=path.kind,
                )
            )
        elif not path.groupable:
            self.problems.append(
                report_problem("report_not_groupable", pointer + "/field", name=path.path, kind=path.kind)
            )
        if path.dsl_type == "datetime" and not bucket:
            bucket = "day"  # a moment is grouped by its day in the platform's time zone
        label = Label(**raw["label"]) if raw.get("label") else None
        return Dimension(path, pointer, bucket, label, raw.get("top"), raw.get("others", True))

    def measure(self, raw: dict[str, Any], pointer: str) -> Measure | None:
        label = Label(**raw["label"]) if raw.get("label") else None
        common = {
            "scale": raw.get("scale"),
            "format": raw.get("format"),
            "label": label,
            "percent_of_total": raw.get("percent_of_total", False),
            "running_total": raw.get("running_total", False),
        }
        if "formula" in raw:
            return Measure(raw["name"], pointer, formula=raw["formula"], **common)
        agg = raw["agg"]
        if raw.get("filter"):
            self.dsl(raw["filter"], pointer + "/filter", self.entity_fields(), "boolean")
        if raw.get("expression"):
            if self.dsl(raw["expression"], pointer + "/expression", self.entity_fields(), None):
                kind = rule_engine.compile(raw["expression"], self.entity_fields()).type
                if agg in _NUMERIC_AGGS and kind not in ("integer", "number"):
                    self.problems.append(
                        report_problem(
                            "report_not_numeric",
                            pointer + "/expression",
                            agg=agg,
                            name=raw["expression"],
                            kind=kind,
                        )
                    )
            return Measure(raw["name"], pointer, agg, None, raw["expression"], raw.get("filter"), **common)
        path = None
        if raw.get("field"):
            path = self.path(raw["field"], pointer + "/field")
        elif agg != "count":
            self.problems.append(report_problem("report_shape_needs", pointer, shape=agg, part="field"))
            return None
        if path is not None:
            if agg in _NUMERIC_AGGS and not path.quantity:
                self.problems.append(
                    report_problem(
                        "report_not_numeric", pointer + "/field", agg=agg, name=path.path, kind=path.kind
                    )
                )
            elif agg in _ORDERED_AGGS and not (path.quantity or path.is_date or path.groupable):
                self.problems.append(
                    report_problem(
                        "report_not_comparable", pointer + "/field", agg=agg, name=path.path, kind=path.kind
                    )
                )
        return Measure(raw["name"], pointer, agg, path, None, raw.get("filter"), **common)


def analyse(package: AppPackage, data: dict[str, Any]) -> Report | list[Problem]:
    """The report ``data`` (schema-valid) resolved against ``package``, or its problems with
    pointers relative to the report."""
    a = Analysis(package, data)
    if not package.has_entity(data["entity"]):
        hint = did_you_mean(data["entity"], [e.name for e in package.entities])
        return [report_problem("report_unknown_entity", "/entity", name=data["entity"], hint=hint)]
    a.entity = package.entity(data["entity"])
    shape = data["shape"]
    if data.get("filter"):
        a.dsl(data["filter"], "/filter", a.entity_fields(), "boolean")
    rows = [a.dimension(d, f"/rows/{i}") for i, d in enumerate(data.get("rows", []))]
    columns = [a.dimension(d, f"/columns/{i}") for i, d in enumerate(data.get("columns", []))]
    measures = [a.measure(m, f"/measures/{i}") for i, m in enumerate(data.get("measures", []))]
    names: set[str] = set()
    for m in measures:
        if m is None:
            continue
        if m.name in names:
            a.problems.append(report_problem("report_duplicate_name", m.pointer + "/name", name=m.name))
        names.add(m.name)
    aggregated = [m.name for m in measures if m is not None and m.formula is None]
    for m in measures:
        if m is not None and m.formula is not None:
            a.dsl(m.formula, m.pointer + "/formula", dict.fromkeys(aggregated, "number"), None)
    parameters: dict[str, Parameter] = {}
    for name, raw in (data.get("parameters") or {}).items():
        path = a.path(raw["field"], f"/parameters/{name}/field")
        if path is None:
            continue
        kind = raw.get("kind") or ("period" if name == "period" else "value")
        if kind == "period" and not path.is_date:
            a.problems.append(
                report_problem(
                    "report_needs_date", f"/parameters/{name}/field", name=path.path, kind=path.kind
                )
            )
        parameters[name] = Parameter(name, path, kind)
    if (data.get("compare") or data.get("period")) and not any(
        p.kind == "period" for p in parameters.values()
    ):
        a.problems.append(report_problem("report_compare_needs_period", "/parameters"))
    order_by = _order_by(a, shape, data.get("sort"), [m.name for m in measures if m is not None])
    table_fields = [a.path(f, f"/fields/{i}") for i, f in enumerate(data.get("fields", []))]
    stages = _stages(a, data) if shape == "funnel" else {}
    cohort = _cohort(a, data) if shape == "cohort" else {}
    _shape_needs(a, shape, data)
    if a.problems:
        return a.problems
    return Report(
        name=data["name"],
        entity=data["entity"],
        shape=shape,
        source=data,
        label=Label(**data["label"]) if data.get("label") else None,
        filter=data.get("filter"),
        period=data.get("period"),
        rows=tuple(d for d in rows if d is not None),
        columns=tuple(d for d in columns if d is not None),
        measures=tuple(m for m in measures if m is not None),
        parameters=parameters,
        compare=tuple(data.get("compare", [])),
        fields=tuple(f for f in table_fields if f is not None),
        sort=data.get("sort"),
        limit=data.get("limit"),
        stages=stages,
        cohort=cohort,
        chart=(data.get("chart") or {}).get("type"),
        order_by=order_by,
    )


def _order_by(a: Analysis, shape: str, sort: str | None, names: list[str]) -> tuple[str, bool] | None:
    """A grouped report's ``sort``: one measure name, ``-`` first for descending."""
    if shape not in ("summary", "matrix") or not sort:
        return None
    name = sort.strip().lstrip("-+").strip()
    if name not in names:
        a.problems.append(
            report_problem("report_measure_missing", "/sort", name=name, hint=did_you_mean(name, names))
        )
        return None
    return name, sort.strip().startswith("-")


def _stages(a: Analysis, data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("stages")
    if not raw:
        return {}
    path = a.path(raw["field"], "/stages/field")
    out: dict[str, Any] = {"cumulative": raw.get("cumulative", True)}
    if path is not None:
        if path.kind != "select":
            a.problems.append(
                report_problem("report_not_select", "/stages/field", name=path.path, kind=path.kind)
            )
            return out
        options = [o.value for o in path.options]
        values = raw.get("values") or options
        for i, value in enumerate(values):
            if value not in options:
                a.problems.append(
                    report_problem(
                        "report_unknown_option", f"/stages/values/{i}", name=path.path, value=value
                    )
                )
        out.update(field=path, values=list(values))
    if raw.get("amount"):
        amount = a.path(raw["amount"], "/stages/amount")
        if amount is not None and not amount.quantity:
            a.problems.append(
                report_problem(
                    "report_not_numeric", "/stages/amount", agg="sum", name=amount.path, kind=amount.kind
                )
            )
        elif amount is not None:
            out["amount"] = amount
    return out


def _cohort(a: Analysis, data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("cohort")
    if not raw:
        return {}
    out: dict[str, Any] = {"periods": raw.get("periods", 12)}
    subject = a.path(raw["subject"], "/cohort/subject")
    if subject is not None:
        if not subject.groupable:
            a.problems.append(
                report_problem(
                    "report_not_groupable", "/cohort/subject", name=subject.path, kind=subject.kind
                )
            )
        out["subject"] = subject
    date = a.path(raw["date"], "/cohort/date")
    if date is not None:
        if not date.is_date:
            a.problems.append(
                report_problem("report_needs_date", "/cohort/date", name=date.path, kind=date.kind)
            )
        out["date"] = date
    if raw.get("value"):
        value = a.path(raw["value"], "/cohort/value")
        if value is not None and not value.quantity:
            a.problems.append(
                report_problem(
                    "report_not_numeric", "/cohort/value", agg="sum", name=value.path, kind=value.kind
                )
            )
        elif value is not None:
            out["value"] = value
    return out


#: shape -> the parts it cannot do without
_NEEDS = {
    "table": ("fields",),
    "summary": ("rows", "measures"),
    "matrix": ("rows", "columns", "measures"),
    "funnel": ("stages",),
    "kpi": ("measures",),
    "cohort": ("cohort",),
}


def _shape_needs(a: Analysis, shape: str, data: dict[str, Any]) -> None:
    for part in _NEEDS[shape]:
        if not data.get(part):
            a.problems.append(report_problem("report_shape_needs", f"/{part}", shape=shape, part=part))
