"""Every flow and calendar shown in docs/flows.md is valid against the documented sample app."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine import parse_package
from engine.host.plugins import create_plugin_manager
from flow_engine import plugin
from flow_engine.calendar import Calendar, Duration

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docs/flows.md").read_text("utf-8")
BLOCKS = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", TEXT, re.S)]
FLOWS = [b for b in BLOCKS if "nodes" in b]
CALENDARS = [b for b in BLOCKS if "hours" in b]
SALES = json.loads((ROOT / "docs/examples/sales.json").read_text("utf-8"))


def test_the_guide_shows_each_approval_mode() -> None:
    modes = {n.get("mode") for f in FLOWS for n in f["nodes"] if n["type"] == "approval"}
    assert {"any", "all", "percent", "sequential"} <= modes


@pytest.mark.parametrize("flow", FLOWS, ids=[f["name"] for f in FLOWS])
def test_each_documented_flow_is_valid(flow: dict[str, Any]) -> None:
    create_plugin_manager([plugin], load_entry_points=False)  # registers the flow sections
    package = parse_package({**SALES, "flows": [flow], "calendars": CALENDARS})
    assert package.section("flows")[0]["name"] == flow["name"]


def test_the_calendar_example_gives_the_dates_the_guide_states() -> None:
    from datetime import UTC, datetime

    [spec] = CALENDARS
    cn = Calendar(spec)
    monday = datetime(2024, 9, 30, 2, tzinfo=UTC)  # 10:00 Beijing
    assert cn.add(monday, Duration(days=3, business=True)) == datetime(2024, 10, 10, 2, tzinfo=UTC)
    friday = datetime(2024, 9, 27, 9, tzinfo=UTC)  # 17:00 Beijing
    assert cn.add(friday, Duration(hours=2, business=True)) == datetime(2024, 9, 29, 2, tzinfo=UTC)
