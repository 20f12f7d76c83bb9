"""Plugins inside the write: their steps run on every batch after the kernel's, their
before-commit hook sees every row's event and can still undo the write; events are published
only once the write committed."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import pytest

from engine import (
    SYSTEM,
    Batch,
    InvalidInput,
    Platform,
    RecordEvent,
    Settings,
    WriteStep,
    WriteUnit,
    hookimpl,
)
from engine.apps.metadata_store import import_app

from .fields.conftest import field, label

PACKAGE: dict[str, Any] = {
    "name": "shop",
    "label": label("商店", "Shop"),
    "entities": [
        {
            "name": "order",
            "label": label("订单", "Order"),
            "fields": [
                field("title", "text", required=True),
                field("number", "auto_number", pattern="SO-{seq:3}"),
                field("lines", "sub_table", entity="line", link_field="order"),
                field("total", "rollup", entity="line", link_field="order", function="sum", field="amount"),
            ],
        },
        {
            "name": "line",
            "label": label("明细", "Line"),
            "fields": [
                field("order", "lookup", entity="order"),
                field("product", "text", required=True),
                field("amount", "number", scale=2),
            ],
        },
        {"name": "log", "label": label("日志", "Log"), "fields": [field("text", "text")]},
    ],
}


class PluginError(InvalidInput):
    """A plugin's refusal, worded from its own catalogue."""

    catalogue = MappingProxyType(
        {
            "forbidden_product": {"zh": "禁止的产品", "en": "no forbidden products"},
            "refused": {"zh": "提交前被拒绝", "en": "refused before commit"},
        }
    )


class Recorder(WriteStep):
    """Sees every batch: what the kernel's steps left in place by the time it runs."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, Any]] = []

    def before(self, batch: Batch) -> None:
        if batch.er.entity.name == "line" and any(r.get("product") == "forbidden" for r in batch.rows):
            raise PluginError("forbidden_product")

    def after(self, batch: Batch) -> None:
        for row in batch.rows:
            self.seen.append((batch.er.entity.name, batch.op, len(batch.rows), row.get("number")))


class Plugin:
    def __init__(self) -> None:
        self.step = Recorder()
        self.pending: list[list[tuple[str, str]]] = []
        self.published: list[tuple[str, str]] = []
        self.refuse_commit = False

    @hookimpl
    def tangram_write_steps(self) -> list[WriteStep]:
        return [self.step]

    @hookimpl
    def tangram_before_commit(self, unit: WriteUnit) -> None:
        self.pending.append([(e.name, e.entity) for e in unit.pending])
        if any(e.entity == "order" and e.name == "record.created" for e in unit.pending):
            log = unit.runtime.entity("log")
            unit.create(log, [{"text": f"{len(unit.pending)} rows changed"}])
        if self.refuse_commit:
            raise PluginError("refused")

    @hookimpl
    def tangram_record_event(self, event: RecordEvent, platform: Platform) -> None:
        self.published.append((event.name, event.entity))


@pytest.fixture
def plugin() -> Plugin:
    return Plugin()


@pytest.fixture
def shop(settings: Settings, plugin: Plugin) -> Iterator[Platform]:
    platform = Platform(settings, plugins=[plugin], load_entry_points=False)
    platform.init_database()
    with platform.db.begin() as conn:
        import_app(conn, PACKAGE, SYSTEM)
    try:
        yield platform
    finally:
        platform.close()


def _count(platform: Platform, entity: str) -> int:
    return platform.records.list_records(SYSTEM, "shop", entity).total


def test_plugin_steps_run_after_the_kernels_on_every_batch(shop: Platform, plugin: Plugin) -> None:
    order = shop.records.create(
        SYSTEM, "shop", "order", {"title": "o", "lines": [{"product": "a", "amount": 2}, {"product": "b"}]}
    )
    # The order's batch saw its auto-number in place; both lines came as one batch of two.
    assert ("order", "create", 1, "SO-001") in plugin.step.seen
    assert [s for s in plugin.step.seen if s[0] == "line"] == [("line", "create", 2, None)] * 2
    assert order["total"] == 2


def test_before_commit_sees_every_row_and_writes_in_the_same_transaction(
    shop: Platform, plugin: Plugin
) -> None:
    shop.records.create(
        SYSTEM, "shop", "order", {"title": "o", "lines": [{"product": "a"}, {"product": "b"}]}
    )
    assert plugin.pending == [
        [("record.created", "order"), ("record.created", "line"), ("record.created", "line")]
    ]
    # The hook's own record committed with the order, and its event was published after it.
    logs = shop.records.list_records(SYSTEM, "shop", "log").items
    assert [r["text"] for r in logs] == ["3 rows changed"]
    assert plugin.published == [
        ("record.created", "order"),
        ("record.created", "line"),
        ("record.created", "line"),
        ("record.created", "log"),
    ]


def test_a_refusing_step_or_hook_undoes_everything_and_publishes_nothing(
    shop: Platform, plugin: Plugin
) -> None:
    with pytest.raises(InvalidInput, match="no forbidden products"):
        shop.records.create(
            SYSTEM, "shop", "order", {"title": "o", "lines": [{"product": "a"}, {"product": "forbidden"}]}
        )
    plugin.refuse_commit = True
    with pytest.raises(InvalidInput, match="refused before commit"):
        shop.records.create(SYSTEM, "shop", "order", {"title": "p", "lines": [{"product": "a"}]})
    assert (_count(shop, "order"), _count(shop, "line"), _count(shop, "log")) == (0, 0, 0)
    assert plugin.published == []
    # The refused writes gave their auto-numbers back.
    plugin.refuse_commit = False
    assert shop.records.create(SYSTEM, "shop", "order", {"title": "q"})["number"] == "SO-001"
