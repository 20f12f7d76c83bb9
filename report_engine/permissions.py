"""A report under the caller's permissions, exactly like a record list: the entities it reads
must be readable, a hidden field cannot appear at all, and a masked one cannot be a dimension,
a filter or a value (only counted). Rows are narrowed by the same SQL row scopes
(``AccessPolicy.row_filter``) in the compiler."""

from __future__ import annotations

from engine import AccessPolicy, AppRuntime, Context, Forbidden
from form_engine import Problem
from report_engine.definitions import Report
from report_engine.errors import ReportForbidden
from report_engine.messages import report_problem


def check(
    access: AccessPolicy, ctx: Context, runtime: AppRuntime, report: Report, *, table_fields: bool
) -> None:
    """Refuse (403, every field named with its pointer) what the caller may not use."""
    source = runtime.entity(report.entity)
    access.require(ctx, source, "read")
    problems: list[Problem] = []
    for path, pointer, use in report.paths():
        entity = source
        for lookup, target in zip(path.lookups, path.entities[1:], strict=True):
            plan = access.field_plan(ctx, entity)
            if lookup in plan.hidden or lookup in plan.masked:
                problems.append(report_problem("report_field_hidden", pointer, name=path.path))
                break
            entity = runtime.entity(target)
            access.require(ctx, entity, "read")
        else:
            plan = access.field_plan(ctx, entity)
            if path.name in plan.hidden:
                problems.append(report_problem("report_field_hidden", pointer, name=path.path))
            elif (
                path.name in plan.masked
                and use != "count"
                and not (table_fields and pointer.startswith("/fields/"))
            ):
                problems.append(report_problem("report_field_masked", pointer, name=path.path))
    texts = [("/filter", report.filter)]
    for m in report.measures:
        texts += [(m.pointer + "/filter", m.filter), (m.pointer + "/expression", m.expression)]
    for pointer, text in texts:
        if text:
            try:
                access.check_query(ctx, source, text, None)
            except Forbidden as exc:  # a hidden or masked field in the text: named in details
                if exc.key != "fields_not_queryable":
                    raise
                problems += [
                    report_problem("report_field_hidden", pointer, name=f) for f in exc.details["fields"]
                ]
    if problems:
        names = sorted({str(p.params["name"]) for p in problems})
        raise ReportForbidden(
            "report_fields_refused", fields=", ".join(names), problems=problems, details={"fields": names}
        )
