"""Administration of the working-day calendar: the holidays and make-up working days rules
count with (``add_workdays``, ``workdays_between``), seeded from the State Council's notices."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

import rule_engine
from engine.errors import NotFound
from engine.identity import audit
from engine.schema import calendar_days

from .deps import AdminDep, ContextDep, PlatformDep

router = APIRouter(tags=["calendar"])

Year = Annotated[int, Query(ge=rule_engine.CALENDAR_FIRST.year, le=rule_engine.CALENDAR_LAST.year)]
Day = Annotated[date, Path()]


class DayChange(BaseModel):
    model_config = {"extra": "forbid"}

    workday: bool
    name: str = Field(min_length=1, max_length=100)


def _listing(platform: Any, year: int) -> dict[str, Any]:
    with platform.db.connect() as conn:
        days = calendar_days.exceptions(conn, year)
    return {"year": year, "source": rule_engine.bundled_calendar_source(), "days": days}


@router.get("/api/calendar")
def list_calendar(ctx: ContextDep, platform: PlatformDep, year: Year) -> dict[str, Any]:
    """The year's holidays and make-up working days; everyone may read them."""
    return _listing(platform, year)


def _change(platform: Any, ctx: Any, day: date, workday: bool, name: str | None) -> dict[str, Any]:
    with platform.db.begin() as conn:
        if not calendar_days.set_day(conn, day, workday, name):
            raise NotFound("calendar_day_not_found", day=day.isoformat())
        details = {"day": day.isoformat(), "workday": workday, "name": name}
        audit.record(conn, "calendar_changed", ctx=ctx, target=f"calendar:{day.isoformat()}", details=details)
    calendar_days.install(platform.db)
    return {"date": day.isoformat(), "workday": workday, "name": name}


@router.put("/api/calendar/{day}")
def change_day(day: Day, body: DayChange, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """Make a day a holiday (``workday: false``) or a make-up working day (``true``)."""
    return _change(platform, ctx, day, body.workday, body.name.strip())


@router.delete("/api/calendar/{day}")
def reset_day(day: Day, ctx: AdminDep, platform: PlatformDep) -> dict[str, Any]:
    """The day is an ordinary day again: a working day Monday to Friday."""
    return _change(platform, ctx, day, calendar_days.ordinary_workday(day), None)
