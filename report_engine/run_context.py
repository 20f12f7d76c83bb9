"""Everything one report run needs, gathered once: the connection, the compiled app, the
caller's scopes, the bound parameters, the time zone and the caller's language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from engine import AppRuntime
from report_engine.compiler import Plan, build_plan
from report_engine.definitions import Dimension, Report
from report_engine.params import Bound
from report_engine.periods import DateRange
from report_engine.presentation import Labeller
from report_engine.source import ScopeOf


@dataclass
class RunContext:
    conn: sa.Connection
    report: Report
    runtime: AppRuntime
    scope_of: ScopeOf
    bound: Bound
    zone: ZoneInfo
    labeller: Labeller
    #: entities the run read (for cache invalidation), filled as plans are built
    entities: set[str]

    @property
    def locale(self) -> str:
        return self.labeller.locale

    def plan(self, *, dims: Sequence[Dimension] | None = None, period: DateRange | None = None) -> Plan:
        plan = build_plan(
            self.report,
            self.runtime,
            self.conn,
            self.scope_of,
            self.bound,
            self.zone,
            dims=dims,
            period=period,
        )
        self.entities |= plan.source.entities()
        return plan

    def result(self, **parts: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"report": self.report.name, "shape": self.report.shape}
        if self.report.label is not None:
            out["label"] = self.report.label.text(self.locale)
        if self.bound.period is not None:
            out["period"] = self.bound.period.to_json()
        out.update(parts)
        return out
