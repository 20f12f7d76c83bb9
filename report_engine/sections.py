"""The ``reports`` and ``dashboards`` sections of the app package: their schemas and the checks
that run when a package is saved, with pointers into the section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import AppPackage, PackageSection
from form_engine import Problem
from report_engine.definitions import analyse
from report_engine.messages import did_you_mean, report_problem
from report_engine.schema import DASHBOARD, REPORT


def check_reports(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    found: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["name"] in seen:
            found.append(report_problem("report_duplicate_name", f"/{i}/name", name=item["name"]))
        seen.add(item["name"])
        result = analyse(package, item)
        if isinstance(result, list):
            found += [_under(p, f"/{i}") for p in result]
    return found


def check_dashboards(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    reports = [r["name"] for r in package.section("reports")]
    roles = [r.name for r in package.roles]
    found: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        if item["name"] in seen:
            found.append(report_problem("report_duplicate_name", f"/{i}/name", name=item["name"]))
        seen.add(item["name"])
        for j, cell in enumerate(item["items"]):
            if cell["report"] not in reports:
                found.append(
                    report_problem(
                        "report_unknown_report",
                        f"/{i}/items/{j}/report",
                        name=cell["report"],
                        hint=did_you_mean(cell["report"], reports),
                    )
                )
        for j, role in enumerate(item.get("default_for", [])):
            if role not in roles and role != "everyone":
                found.append(report_problem("report_unknown_role", f"/{i}/default_for/{j}", name=role))
    return found


def _under(problem: Problem, prefix: str) -> Problem:
    return Problem(
        problem.code,
        field=problem.field,
        pointer=prefix + (problem.pointer or ""),
        params=problem.params,
        line=problem.line,
        column=problem.column,
    )


SECTIONS = [
    PackageSection(
        "reports", REPORT, check_reports, "Reports: a source entity, dimensions, measures, a shape"
    ),
    PackageSection(
        "dashboards", DASHBOARD, check_dashboards, "Dashboards: a grid of reports, shared filters"
    ),
]
