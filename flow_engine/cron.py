"""Schedules written as standard cron expressions, read by APScheduler's cron trigger."""

from __future__ import annotations

import re
from typing import Any

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]


def cron_trigger(expression: str, timezone: str = "Asia/Shanghai") -> Any:
    """A standard five-field cron expression as an APScheduler trigger. APScheduler numbers
    weekdays from Monday = 0; cron from Sunday = 0 (or 7), so weekday numbers become names."""
    fields = expression.split()
    if len(fields) == 5:
        names = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
        fields[4] = re.sub(
            r"\d+", lambda m: names[int(m.group())] if int(m.group()) < 8 else m.group(), fields[4]
        )
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)
