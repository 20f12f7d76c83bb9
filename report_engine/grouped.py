"""The grouped shapes: summary (groups, subtotals, grand total), matrix (rows x columns, totals
both ways) and KPI (one row), with top N and "others", percent of total, running totals and
the change against the previous period and the same period a year ago (环比 / 同比)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from engine import directory, user_labels
from report_engine import buckets, periods
from report_engine.aggregates import combine, exact
from report_engine.compiler import Group, Plan, fetch, finish
from report_engine.definitions import Dimension
from report_engine.errors import ReportInvalid
from report_engine.messages import DIFF_LABELS, report_problem
from report_engine.periods import DateRange
from report_engine.presentation import (
    OTHERS,
    derived_column,
    dim_value,
    dimension_column,
    measure_column,
    sort_key,
    to_json,
)
from report_engine.run_context import RunContext

CHANGE_LABELS = {
    "previous": {"zh": "环比上期", "en": "previous period"},
    "previous_change": {"zh": "环比", "en": "change vs previous"},
    "year_ago": {"zh": "去年同期", "en": "a year ago"},
    "year_ago_change": {"zh": "同比", "en": "change vs a year ago"},
    "pct": {"zh": "占比", "en": "% of total"},
    "running": {"zh": "累计", "en": "running total"},
}
TopSets = dict[str, set[Any]]


def top_sets(plan: Plan, rows: Sequence[Group]) -> TopSets:
    """For each dimension with ``top``: the values kept, the first N in the report's measure
    order (``sort``), else the N largest by the first measure that adds up."""
    out: TopSets = {}
    order = plan.report.order_by
    if order is None:
        ranked = next((m for m in plan.measures if all(p.combine for p in m.parts)), None)
        order = (ranked.measure.name, True) if ranked is not None else None
    for d, _expr in plan.dims:
        if not d.top:
            continue
        by_value: dict[Any, list[Group]] = {}
        for row in rows:
            if row[d.key] is not None:  # the empty group is never folded, so takes no place
                by_value.setdefault(row[d.key], []).append(row)
        if order is None or len(by_value) <= d.top:
            out[d.key] = set(list(by_value)[: d.top]) if order is None else set(by_value)
            continue
        out[d.key] = set(_ranked(plan, d, by_value, order)[: d.top])
    return out


def _ranked(
    plan: Plan, d: Dimension, by_value: dict[Any, list[Group]], order: tuple[str, bool]
) -> list[Any]:
    """A dimension's values by one measure (ties in their natural order)."""
    name, descending = order
    natural = sorted(by_value, key=lambda v: sort_key(d, v))
    return sorted(natural, key=lambda v: measure_rank(plan, _merged(plan, by_value[v]), name, descending))


def _merged(plan: Plan, members: list[Group]) -> Group:
    if len(members) == 1:
        return members[0]
    return {p.label: combine(p.combine, [r[p.label] for r in members]) for p in plan.parts}


def measure_rank(plan: Plan, group: Group, name: str, descending: bool) -> tuple[Any, ...]:
    """Where a group goes when ordered by one measure: empty values last either way."""
    value = finish(plan, group).get(name)
    if value is None or isinstance(value, bool):
        return (1, 0)
    return (0, -value if descending else value)


def fold(plan: Plan, rows: list[Group], tops: TopSets) -> list[Group]:
    """Rows with values outside each dimension's top N folded into one "others" group (or
    dropped when the dimension says ``others: false``)."""
    if not tops:
        return rows
    dims = {d.key: d for d, _e in plan.dims}
    kept: list[Group] = []
    for row in rows:
        row = dict(row)
        drop = False
        for key, values in tops.items():
            if row[key] not in values and row[key] is not None:
                if not dims[key].others:
                    drop = True
                row[key] = OTHERS
        if not drop:
            kept.append(row)
    return _merge_loose(plan, kept)


def _merge_loose(plan: Plan, rows: list[Group]) -> list[Group]:
    keys = [d.key for d, _e in plan.dims]
    merged: dict[tuple[Any, ...], list[Group]] = {}
    for row in rows:
        merged.setdefault(tuple(row[k] for k in keys), []).append(row)
    out = []
    for key, members in merged.items():
        group = dict(zip(keys, key, strict=True))
        for p in plan.parts:
            group[p.label] = (
                members[0][p.label]
                if len(members) == 1
                else combine(p.combine, [m[p.label] for m in members])
            )
        out.append(group)
    return out


def _ordered(dims: Sequence[Dimension], rows: list[Group]) -> list[Group]:
    return sorted(rows, key=lambda r: tuple(sort_key(d, r[d.key]) for d in dims))


def _row_order(plan: Plan, dims: Sequence[Dimension], rows: list[Group]) -> list[Group]:
    """A matrix's rows in their natural order, or by their totals of the ``sort`` measure."""
    order = plan.report.order_by
    if order is None:
        return _ordered(dims, rows)
    name, descending = order

    def key(row: Group) -> tuple[Any, ...]:
        natural = tuple(sort_key(d, row[d.key]) for d in dims)
        last = max((n[0] for n in natural if n[0] >= 2), default=0)
        return (last, measure_rank(plan, row, name, descending), natural)

    return sorted(rows, key=key)


def _leaf_order(
    plan: Plan,
    dims: Sequence[Dimension],
    leaves: list[Group],
    subtotals: dict[tuple[int, tuple[Any, ...]], Group],
) -> list[Group]:
    """Leaves in their natural order, or, with a measure ``sort``, each level's groups by that
    measure within their parent (outer groups by their subtotal); the empty group and "others"
    stay last, so every parent's groups stay together under its subtotal."""
    order = plan.report.order_by
    if order is None:
        return _ordered(dims, leaves)
    name, descending = order

    def key(row: Group) -> tuple[Any, ...]:
        parts: list[Any] = []
        for depth, d in enumerate(dims, start=1):
            value = row[d.key]
            group = (
                row if depth == len(dims) else subtotals.get((depth, tuple(row[x.key] for x in dims[:depth])))
            )
            natural = sort_key(d, value)
            last = natural[0] if natural[0] >= 2 else 0  # the empty group, then "others"
            rank = measure_rank(plan, group, name, descending) if group is not None else (1, 0)
            parts.append((last, rank, natural))
        return tuple(parts)

    return sorted(leaves, key=key)


def _change(current: Any, earlier: Any) -> Decimal | None:
    if current is None or earlier is None or earlier == 0:
        return None
    return exact((Decimal(current) - Decimal(earlier)) / abs(Decimal(earlier)), 4)


def _diff(current: Any, earlier: Any) -> Any:
    if current is None or earlier is None or isinstance(current, bool):
        return None
    return current - earlier


def comparison_periods(rc: RunContext, dims: Sequence[Dimension]) -> list[tuple[str, DateRange, Any]]:
    """(comparison, earlier range, key shift) for each requested comparison; the shift moves
    an earlier bucket onto the one it is compared with (None: keys stay)."""
    if not rc.report.compare:
        return []
    period, param = rc.bound.period, rc.bound.period_param
    if period is None or param is None:
        raise ReportInvalid(
            "report_params_invalid",
            problems=[report_problem("report_compare_needs_period", "/params/period")],
        )
    series = next((d for d in dims if d.bucket and d.path.path == param.path.path), None)
    out: list[tuple[str, DateRange, Any]] = []
    for c in rc.report.compare:
        if series is None:
            out.append((c, periods.shift(period, c), None))
            continue
        assert series.bucket is not None
        unit, count = (series.bucket, 1) if c == "previous" else ("month", 12)
        earlier = DateRange(buckets.step(period.start, unit, -count), buckets.step(period.end, unit, -count))
        out.append((c, earlier, (series.key, unit, count)))
    return out


def _compare(
    rc: RunContext, dims: Sequence[Dimension], levels: list[tuple[int, ...]], tops: TopSets
) -> list[tuple[str, list[dict[tuple[Any, ...], dict[str, Any]]]]]:
    """For each comparison, each level's finished values keyed by the group's dimension values."""
    out = []
    for c, earlier, shift in comparison_periods(rc, dims):
        plan = rc.plan(dims=dims, period=earlier)
        per_level = []
        for rows in fetch(rc.conn, plan, levels):
            keyed: dict[tuple[Any, ...], dict[str, Any]] = {}
            for row in fold(plan, rows, tops):
                if shift is not None and row[shift[0]] is not None and row[shift[0]] != OTHERS:
                    key_name, unit, count = shift
                    day = buckets.as_date(row[key_name])
                    assert day is not None
                    row[key_name] = _same_type(row[key_name], buckets.step(day, unit, count))
                keyed[_key(dims, row)] = finish(plan, row)
            per_level.append(keyed)
        out.append((c, per_level))
    return out


def _same_type(original: Any, day: Any) -> Any:
    return day.isoformat() if isinstance(original, str) else day


def _key(dims: Sequence[Dimension], row: Group) -> tuple[Any, ...]:
    """A group's key over ``dims``; a dimension the group's level does not split by (a total)
    is absent from its row and keys as None, alike for the group and its earlier period."""
    values = [row.get(d.key) for d in dims]
    return tuple(
        str(buckets.as_date(v)) if d.bucket and v not in (None, OTHERS) else v
        for d, v in zip(dims, values, strict=True)
    )


def _with_comparisons(
    values: dict[str, Any], key: tuple[Any, ...], level: int, compared: Any, names: list[str]
) -> None:
    for c, per_level in compared:
        earlier = per_level[level].get(key, {})
        for name in names:
            values[f"{name}_{c}"] = earlier.get(name)
            values[f"{name}_{c}_diff"] = _diff(values.get(name), earlier.get(name))
            values[f"{name}_{c}_change"] = _change(values.get(name), earlier.get(name))


def _json_row(
    dims: Sequence[Dimension], row: Group, values: dict[str, Any], rc: RunContext
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in dims:
        out[d.key] = dim_value(d, row.get(d.key))
        out[d.key + "@label"] = rc.labeller.label(d, row.get(d.key))
    out.update({k: to_json(v) for k, v in values.items()})
    return out


def _columns(rc: RunContext, plan: Plan, dims: Sequence[Dimension]) -> list[dict[str, Any]]:
    compiled = {m.measure.name: m for m in plan.measures}
    cols = [dimension_column(d, rc.locale) for d in dims]
    for m in rc.report.measures:
        base = measure_column(m, compiled.get(m.name), rc.locale)
        cols.append(base)
        if m.percent_of_total:
            cols.append(
                derived_column(f"{m.name}_pct", CHANGE_LABELS["pct"], base["label"], rc.locale, "percent")
            )
        if m.running_total:
            cols.append(
                {
                    **base,
                    "name": f"{m.name}_running",
                    "label": f"{base['label']} {CHANGE_LABELS['running'][_lang(rc)]}",
                }
            )
        for c in rc.report.compare:
            cols.append(
                {**base, "name": f"{m.name}_{c}", "label": f"{base['label']} {CHANGE_LABELS[c][_lang(rc)]}"}
            )
            cols.append(
                {
                    **base,
                    "name": f"{m.name}_{c}_diff",
                    "label": f"{base['label']} {DIFF_LABELS[c + '_diff'][_lang(rc)]}",
                }
            )
            cols.append(
                derived_column(
                    f"{m.name}_{c}_change", CHANGE_LABELS[c + "_change"], base["label"], rc.locale, "percent"
                )
            )
    return cols


def _lang(rc: RunContext) -> str:
    return "zh" if rc.locale.startswith("zh") else "en"


def _ratios(rc: RunContext, values: dict[str, Any], totals: dict[str, Any]) -> None:
    for m in rc.report.measures:
        if m.percent_of_total:
            values[f"{m.name}_pct"] = _share(values.get(m.name), totals.get(m.name))


def _share(part: Any, whole: Any) -> Decimal | None:
    if part is None or whole in (None, 0):
        return None
    return exact(Decimal(part) / Decimal(whole), 6)


def summary(rc: RunContext) -> dict[str, Any]:
    dims = list(rc.report.rows)
    n = len(dims)
    plan = rc.plan(dims=dims)
    levels = [tuple(range(k)) for k in range(n, -1, -1)]  # leaves, ..., grand total
    sets = fetch(rc.conn, plan, levels)
    tops = top_sets(plan, sets[0])
    sets = [fold(plan, rows, tops) for rows in sets]
    compared = _compare(rc, dims, levels, tops)
    _people_labels(rc, dims, sets[0])
    measure_names = [m.name for m in rc.report.measures]
    total_values = finish(plan, sets[-1][0]) if sets[-1] else finish(plan, _empty(plan))
    _with_comparisons(total_values, (None,) * n, n, compared, measure_names)
    subtotals: dict[tuple[int, tuple[Any, ...]], Group] = {}
    for depth in range(1, n):
        for row in sets[n - depth]:
            subtotals[(depth, tuple(row[d.key] for d in dims[:depth]))] = row
    running: dict[str, Any] = {}
    out_rows: list[dict[str, Any]] = []
    leaves = _leaf_order(plan, dims, sets[0], subtotals)
    for i, row in enumerate(leaves):
        values = finish(plan, row)
        _ratios(rc, values, total_values)
        for m in rc.report.measures:
            if m.running_total:
                if values.get(m.name) is not None:
                    running[m.name] = running.get(m.name, 0) + values[m.name]
                values[f"{m.name}_running"] = running.get(m.name)
        _with_comparisons(values, _key(dims, row), 0, compared, measure_names)
        out_rows.append({"_type": "group", **_json_row(dims, row, values, rc)})
        following = leaves[i + 1] if i + 1 < len(leaves) else None
        for depth in range(n - 1, 0, -1):
            prefix = tuple(row[d.key] for d in dims[:depth])
            if following is not None and tuple(following[d.key] for d in dims[:depth]) == prefix:
                break
            sub = subtotals.get((depth, prefix))
            if sub is None:
                continue
            sub_values = finish(plan, sub)
            _ratios(rc, sub_values, total_values)
            key = tuple(list(_key(dims[:depth], sub)) + [None] * (n - depth))
            _with_comparisons(sub_values, key, n - depth, compared, measure_names)
            shown = _json_row(dims, {**sub, **{d.key: None for d in dims[depth:]}}, sub_values, rc)
            for d in dims[depth:]:
                shown[d.key + "@label"] = ""
            out_rows.append({"_type": "subtotal", "_level": depth, **shown})
    _ratios(rc, total_values, total_values)
    return rc.result(
        columns=_columns(rc, plan, dims),
        rows=out_rows,
        totals={k: to_json(v) for k, v in total_values.items()},
    )


def _empty(plan: Plan) -> Group:
    return {p.label: None for p in plan.parts}


def _people_labels(rc: RunContext, dims: Sequence[Dimension], rows: Sequence[Group]) -> None:
    """Names of the people and departments the groups show, read once per run."""
    for kind, read, into in (
        ("user", user_labels, rc.labeller.users),
        ("department", directory.department_names, rc.labeller.departments),
    ):
        ids = {r[d.key] for d in dims if d.path.kind == kind for r in rows if isinstance(r[d.key], int)}
        if ids:
            into.update(read(rc.conn, ids))


def kpi(rc: RunContext) -> dict[str, Any]:
    plan = rc.plan(dims=[])
    [rows] = fetch(rc.conn, plan, [()])
    values = finish(plan, rows[0] if rows else _empty(plan))
    compared = _compare(rc, [], [()], {})
    _with_comparisons(values, (), 0, compared, [m.name for m in rc.report.measures])
    row = {k: to_json(v) for k, v in values.items()}
    return rc.result(columns=_columns(rc, plan, []), rows=[row], totals=row)


def matrix(rc: RunContext) -> dict[str, Any]:
    row_dims, col_dims = list(rc.report.rows), list(rc.report.columns)
    dims = row_dims + col_dims
    r = len(row_dims)
    plan = rc.plan(dims=dims)
    all_rows, all_cols = tuple(range(r)), tuple(range(r, len(dims)))
    levels = [all_rows + all_cols, all_rows, all_cols, ()]
    sets = fetch(rc.conn, plan, levels)
    tops = top_sets(plan, sets[0])
    cells, row_totals, col_totals, grand = (fold(plan, rows, tops) for rows in sets)
    _people_labels(rc, dims, cells)
    compared = _compare(rc, dims, levels, tops)
    names = [m.name for m in rc.report.measures]

    def finished(row: Group, level: int) -> dict[str, Any]:
        """A cell's (level 0), row total's (1), column total's (2) or the grand total's (3)
        values, with their comparisons."""
        values = finish(plan, row)
        _with_comparisons(values, _key(dims, row), level, compared, names)
        return {k: to_json(v) for k, v in values.items()}

    def col_key(row: Group) -> str:
        return "|".join(str(dim_value(d, row[d.key])) for d in col_dims)

    column_keys = []
    for row in _ordered(col_dims, col_totals):
        entry: dict[str, Any] = {"key": col_key(row)}
        for d in col_dims:
            entry[d.key] = dim_value(d, row[d.key])
            entry[d.key + "@label"] = rc.labeller.label(d, row[d.key])
        entry["label"] = " / ".join(rc.labeller.label(d, row[d.key]) for d in col_dims)
        entry["total"] = finished(row, 2)
        column_keys.append(entry)
    by_row: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in cells:
        by_row.setdefault(tuple(row[d.key] for d in row_dims), {})[col_key(row)] = finished(row, 0)
    out_rows = []
    for row in _row_order(plan, row_dims, row_totals):
        key = tuple(row[d.key] for d in row_dims)
        shown = _json_row(row_dims, row, {}, rc)
        shown["cells"] = by_row.get(key, {})
        shown["total"] = finished(row, 1)
        out_rows.append(shown)
    total = finished(grand[0] if grand else _empty(plan), 3)
    return rc.result(
        columns=_columns(rc, plan, row_dims),
        column_keys=column_keys,
        rows=out_rows,
        totals=total,
    )
