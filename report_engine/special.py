"""The shapes that are not plain groupings: table (records with chosen columns), funnel
(ordered stages with conversion) and cohort (subjects by first period x periods since)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from engine import AccessPolicy, Context
from report_engine import buckets
from report_engine.aggregates import exact, from_sum, scaled_sum
from report_engine.compiler import table_statement
from report_engine.definitions import Dimension
from report_engine.presentation import dimension_column, lang, to_json
from report_engine.run_context import RunContext

DEFAULT_TABLE_LIMIT = 1000
LABELS = {
    "count": {"zh": "数量", "en": "Count"},
    "amount": {"zh": "金额", "en": "Amount"},
    "reached": {"zh": "到达", "en": "Reached"},
    "conversion_next": {"zh": "下一阶段转化率", "en": "Conversion to next"},
    "conversion_overall": {"zh": "总转化率", "en": "Overall conversion"},
    "cohort": {"zh": "批次", "en": "Cohort"},
    "size": {"zh": "人数", "en": "Size"},
}


def _ratio(part: Any, whole: Any) -> Decimal | None:
    if part is None or not whole:
        return None
    return exact(Decimal(part) / Decimal(whole), 4)


def table(rc: RunContext, access: AccessPolicy, ctx: Context) -> dict[str, Any]:
    """Records with the chosen columns, sorted, masked fields shown masked as in a list."""
    report = rc.report
    plan = rc.plan(dims=[])
    paths = list(report.fields)
    order = []
    for key in (report.sort or "").split(","):
        name = key.strip().lstrip("-+")
        path = next((p for p in paths if p.path == name), None)
        if path is not None:
            column = plan.source.column(path)
            order.append(column.desc() if key.strip().startswith("-") else column.asc())
    limit = report.limit or DEFAULT_TABLE_LIMIT
    statement = table_statement(plan, paths, order, limit)
    rows = []
    for raw in rc.conn.execute(statement).mappings():
        row: dict[str, Any] = {"_id": raw["_id"]}
        for path in paths:
            _table, er = plan.source.owner_of(path)
            shown = access.present(ctx, er, {path.name: er.value_json(path.name, raw[path.path])})
            row[path.path] = to_json(shown.get(path.name))
        rows.append(row)
    columns = []
    for path in paths:
        label = path.field.label.text(rc.locale) if path.field is not None else path.name
        columns.append({"name": path.path, "label": label, "role": "value", "type": _format(path)})
    return rc.result(columns=columns, rows=rows, totals=None)


def _format(path: Any) -> str:
    if path.kind in ("currency", "percent"):
        return str(path.kind)
    return str(path.dsl_type or "text")


def funnel(rc: RunContext) -> dict[str, Any]:
    """Count and amount at each stage, how many reached it (at it or any later stage, when
    ``cumulative``), and the conversion to the next stage and from the first."""
    stages = rc.report.stages
    stage_path, values = stages["field"], stages["values"]
    dim = Dimension(stage_path, "/stages/field")
    plan = rc.plan(dims=[])
    column = plan.source.column(stage_path)
    dialect = plan.dialect
    selected: list[Any] = [column.label("stage"), sa.func.count().label("n")]
    amount_path = stages.get("amount")
    scale = 0
    if amount_path is not None:
        amount = plan.source.column(amount_path)
        scale = getattr(amount.type, "scale", 0) or 0
        selected.append(
            (
                scaled_sum(amount, scale, dialect)
                if amount_path.dsl_type == "number"
                else sa.func.sum(amount)
            ).label("amount")
        )
    statement = (
        sa.select(*selected)
        .select_from(plan.source.from_clause)
        .where(*plan.where, column.in_(values))
        .group_by(column)
    )
    found = {r.stage: r for r in rc.conn.execute(statement)}
    counts = [int(found[v].n) if v in found else 0 for v in values]
    amounts: list[Any] = []
    for v in values:
        raw = found[v].amount if v in found and amount_path is not None else None
        amounts.append(
            from_sum(raw, scale, dialect)
            if amount_path is not None and amount_path.dsl_type == "number"
            else raw
        )
    cumulative = stages.get("cumulative", True)
    reached = [sum(counts[i:]) for i in range(len(counts))] if cumulative else counts
    rows = []
    for i, v in enumerate(values):
        nxt = reached[i + 1] if i + 1 < len(values) else None
        rows.append(
            {
                "stage": v,
                "stage@label": rc.labeller.label(dim, v),
                "count": counts[i],
                "amount": to_json(amounts[i]) if amount_path is not None else None,
                "reached": reached[i],
                "conversion_next": to_json(_ratio(nxt, reached[i])) if nxt is not None else None,
                "conversion_overall": to_json(_ratio(reached[i], reached[0])),
            }
        )
    language = lang(rc.locale)
    columns = [dimension_column(dim, rc.locale) | {"name": "stage"}]
    columns += [
        {"name": "count", "label": LABELS["count"][language], "role": "measure", "type": "integer"},
        {
            "name": "amount",
            "label": LABELS["amount"][language],
            "role": "measure",
            "type": _format(amount_path) if amount_path else "number",
        },
        {"name": "reached", "label": LABELS["reached"][language], "role": "measure", "type": "integer"},
        {
            "name": "conversion_next",
            "label": LABELS["conversion_next"][language],
            "role": "measure",
            "type": "percent",
        },
        {
            "name": "conversion_overall",
            "label": LABELS["conversion_overall"][language],
            "role": "measure",
            "type": "percent",
        },
    ]
    total_amount = sum((a for a in amounts if a is not None), Decimal(0)) if amount_path is not None else None
    totals = {"count": sum(counts), "amount": to_json(total_amount)}
    return rc.result(columns=columns, rows=rows, totals=totals)


def cohort(rc: RunContext) -> dict[str, Any]:
    """Subjects by the month of their first row x months since: how many were active in each
    month (retention against the cohort's size) and the value they brought, cumulated (the
    basis of lifetime value)."""
    spec = rc.report.cohort
    plan = rc.plan(dims=[])
    dialect, zone = plan.dialect, plan.zone
    subject = plan.source.column(spec["subject"])
    date_path = spec["date"]
    month = buckets.month_index(plan.source.column(date_path), date_path.dsl_type or "date", dialect, zone)
    first = (
        sa.select(subject.label("subject"), sa.func.min(month).label("first"))
        .select_from(plan.source.from_clause)
        .where(*plan.where, subject.is_not(None))
        .group_by(subject)
        .subquery("first_periods")
    )
    age = (month - first.c.first).label("age")
    selected: list[Any] = [
        first.c.first.label("cohort"),
        age,
        sa.func.count(sa.distinct(subject)).label("subjects"),
    ]
    value_path = spec.get("value")
    scale = 0
    if value_path is not None:
        value = plan.source.column(value_path)
        scale = getattr(value.type, "scale", 0) or 0
        selected.append(
            (
                scaled_sum(value, scale, dialect) if value_path.dsl_type == "number" else sa.func.sum(value)
            ).label("value")
        )
    statement = (
        sa.select(*selected)
        .select_from(plan.source.from_clause.join(first, first.c.subject == subject))
        .where(*plan.where, month - first.c.first < spec["periods"])
        .group_by(first.c.first, month - first.c.first)
    )
    grid: dict[int, dict[int, Any]] = defaultdict(dict)
    for r in rc.conn.execute(statement):
        raw_value = getattr(r, "value", None)
        amount = (
            from_sum(raw_value, scale, dialect)
            if value_path is not None and value_path.dsl_type == "number"
            else raw_value
        )
        grid[int(r.cohort)][int(r.age)] = (int(r.subjects), amount)
    rows = []
    for index in sorted(grid):
        cells = grid[index]
        size = cells.get(0, (0, None))[0]
        running = Decimal(0)
        out_cells = []
        for a in range(spec["periods"]):
            subjects, amount = cells.get(a, (0, None))
            if amount is not None:
                running += Decimal(amount)
            out_cells.append(
                {
                    "age": a,
                    "subjects": subjects,
                    "retention": to_json(_ratio(subjects, size)),
                    "value": to_json(amount),
                    "cumulative_value": to_json(running) if value_path is not None else None,
                    "value_per_subject": to_json(_ratio(running, size)) if value_path is not None else None,
                }
            )
        start = buckets.month_of_index(index)
        rows.append(
            {
                "cohort": start.isoformat(),
                "cohort@label": buckets.label(start, "month"),
                "size": size,
                "cells": out_cells,
            }
        )
    language = lang(rc.locale)
    columns = [
        {"name": "cohort", "label": LABELS["cohort"][language], "role": "dimension", "type": "date"},
        {"name": "size", "label": LABELS["size"][language], "role": "measure", "type": "integer"},
    ]
    return rc.result(columns=columns, rows=rows, totals=None, periods=spec["periods"])
