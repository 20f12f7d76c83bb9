"""Notification channels as app data: the ``notify_channels`` section of the app package.

A channel names a group robot (``{"name": "sales_ding", "type": "dingtalk", "label": ...}``);
flows and ``notify`` refer to it by name. Its webhook address and signing secret are not part
of the package: an admin sets them per installation (``PUT
/api/apps/{app}/notify-channels/{name}/secret``), so an exported app carries no secret.
``email`` and ``in_app`` are built in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine import AppPackage, PackageSection
from flow_engine.notify.robots import ROBOTS
from form_engine import Problem, add_messages

SECTION = "notify_channels"
BUILT_IN = ("in_app", "email")

add_messages(
    {
        "notify_channel_duplicate": {
            "zh": "通知渠道 {name} 重复定义",
            "en": "the notification channel {name} is defined twice",
        },
        "notify_channel_reserved": {
            "zh": "{name} 是内置通知渠道，不能重新定义",
            "en": "{name} is a built-in notification channel and cannot be redefined",
        },
    }
)

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,49}$"},
        "type": {"enum": list(ROBOTS)},
        "label": {
            "type": "object",
            "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
            "required": ["zh", "en"],
        },
    },
    "required": ["name", "type"],
    "additionalProperties": False,
}


def check(package: AppPackage, items: Sequence[dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        name = item["name"]
        if name in BUILT_IN:
            problems.append(Problem("notify_channel_reserved", pointer=f"/{i}/name", params={"name": name}))
        elif name in seen:
            problems.append(Problem("notify_channel_duplicate", pointer=f"/{i}/name", params={"name": name}))
        seen.add(name)
    return problems


def section() -> PackageSection:
    return PackageSection(SECTION, ITEM_SCHEMA, check, "Notification channels: group robots by name")


def channel(package: AppPackage, name: str) -> dict[str, Any] | None:
    return next((c for c in package.section(SECTION) if c.get("name") == name), None)
