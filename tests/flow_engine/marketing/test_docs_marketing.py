"""Every segment and journey in the "Marketing automation" section of docs/flows.md is valid.

Those examples are fenced as ``json marketing`` (the flow guide's own test checks ``json`` blocks
against the sample sales app, which has no e-mail fields); here they are checked against the
shop app of these tests with the marketing plugin's actions registered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from engine import ActionRegistry, parse_package
from engine.host.plugins import create_plugin_manager
from flow_engine import plugin as flow_plugin
from flow_engine.marketing import MarketingPlugin
from tests.flow_engine.marketing.conftest import shop_app

TEXT = (Path(__file__).resolve().parents[3] / "docs/flows.md").read_text("utf-8")
BLOCKS: list[dict[str, Any]] = [json.loads(b) for b in re.findall(r"```json marketing\n(.*?)```", TEXT, re.S)]


def test_the_documented_segments_and_journey_are_valid() -> None:
    flows = [b for b in BLOCKS if "nodes" in b]
    found = [b for b in BLOCKS if "rule" in b]
    assert flows and len(found) == 2
    manager = create_plugin_manager([flow_plugin, MarketingPlugin()], load_entry_points=False)
    registry = ActionRegistry()
    manager.hook.tangram_actions(registry=registry)
    package = parse_package(shop_app(segments=found, flows=flows))
    assert [s["name"] for s in package.section("segments")] == ["a_not_b", "warm"]
    assert package.section("flows")[0]["name"] == "nurture"
