"""A sample plugin exercising every hook, registered the way third parties register theirs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner
from fastapi import APIRouter
from fastapi.testclient import TestClient

from engine import (
    SYSTEM,
    ActionCall,
    ActionRegistry,
    AppPackage,
    InvalidInput,
    PackageSection,
    Platform,
    RecordEvent,
    RecordUpdated,
    Settings,
    hookimpl,
)
from engine.apps.metadata_store import load_app, put_section
from engine.cli import create_cli
from engine.host.plugins import create_plugin_manager
from engine.http import create_app
from engine.identity.users import create_user
from form_engine import Problem, add_messages

from .conftest import ADMIN, sales_app, sign_in


class SamplePlugin:
    def __init__(self) -> None:
        self.started: list[Platform] = []
        self.events: list[RecordEvent] = []
        self.notes: list[str] = []

    @hookimpl
    def tangram_startup(self, platform: Platform) -> None:
        self.started.append(platform)

    @hookimpl
    def tangram_routes(self, platform: Platform) -> APIRouter:
        router = APIRouter()

        @router.get("/api/sample/ping")
        def ping() -> dict[str, Any]:
            return {"pong": True, "events": len(self.events)}

        return router

    @hookimpl
    def tangram_actions(self, registry: ActionRegistry) -> None:
        def note(call: ActionCall) -> str:
            text = call.spec["text"].format(**call.record)
            self.notes.append(text)
            return text

        registry.register(
            "sample.note",
            note,
            schema={"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            label={"zh": "记一笔", "en": "Take a note"},
        )

    @hookimpl
    def tangram_record_event(self, event: RecordEvent, platform: Platform) -> None:
        self.events.append(event)

    @hookimpl
    def tangram_jobs(self, platform: Platform) -> dict[str, Any]:
        return {"sample.cleanup": lambda platform, payload: None}

    @hookimpl
    def tangram_commands(self, cli: click.Group) -> None:
        @cli.command("sample-hello")
        def hello() -> None:
            """Say hello from the sample plugin."""
            click.echo("hello from a plugin")

    @hookimpl
    def tangram_package_sections(self) -> list[PackageSection]:
        def check(package: AppPackage, items: Any) -> list[Problem]:
            return [
                Problem("sample_unknown_entity", pointer=f"/{i}/entity", params={"name": item["entity"]})
                for i, item in enumerate(items)
                if not package.has_entity(item["entity"])
            ]

        add_messages({"sample_unknown_entity": {"zh": "没有实体 {name}", "en": "no entity {name}"}})
        schema = {
            "type": "object",
            "properties": {"entity": {"type": "string"}, "text": {"type": "string"}},
            "required": ["entity", "text"],
            "additionalProperties": False,
        }
        return [PackageSection("sample_notes", schema, check, "Notes pinned to entities.")]

    @hookimpl
    def tangram_ui_pages(self, platform: Platform) -> list[dict[str, Any]]:
        return [{"path": "/sample", "label": {"zh": "示例", "en": "Sample"}, "template": "sample.html"}]


@pytest.fixture
def plugin() -> SamplePlugin:
    return SamplePlugin()


@pytest.fixture
def plugged(settings: Settings, plugin: SamplePlugin) -> Iterator[tuple[Platform, TestClient]]:
    platform = Platform(settings, plugins=[plugin], load_entry_points=False)
    with TestClient(create_app(platform=platform)) as client:
        with platform.db.begin() as conn:
            create_user(conn, *ADMIN, is_admin=True, hash_cost=settings.password_hash_cost)
        client.headers.update(sign_in(client, *ADMIN))
        yield platform, client


def test_startup_routes_and_events_reach_the_plugin(
    plugged: tuple[Platform, TestClient], plugin: SamplePlugin
) -> None:
    platform, client = plugged
    assert plugin.started == [platform]
    assert client.post("/api/apps", json=sales_app()).status_code == 201
    r = client.post("/api/apps/sales/records/account", json={"name": "甲"})
    record_id = r.json()["id"]
    client.patch(f"/api/apps/sales/records/account/{record_id}", json={"region": "华东"})
    client.delete(f"/api/apps/sales/records/account/{record_id}")
    client.post(f"/api/apps/sales/records/account/{record_id}/restore")
    assert [e.name for e in plugin.events] == [
        "record.created",
        "record.updated",
        "record.deleted",
        "record.restored",
    ]
    updated = plugin.events[1]
    assert isinstance(updated, RecordUpdated)
    assert updated.changes == {"region": (None, "华东")}
    r = client.get("/api/sample/ping")
    assert r.status_code == 200 and r.json() == {"pong": True, "events": 4}


def test_plugin_routes_require_sign_in(plugged: tuple[Platform, TestClient]) -> None:
    _platform, client = plugged
    r = client.get("/api/sample/ping", headers={"Authorization": ""})
    assert r.status_code == 401, r.text


def test_actions_are_validated_then_run(plugged: tuple[Platform, TestClient], plugin: SamplePlugin) -> None:
    platform, client = plugged
    assert client.post("/api/apps", json=sales_app()).status_code == 201
    assert "sample.note" in platform.actions.names()

    def run(spec: dict[str, Any], record: dict[str, Any]) -> Any:
        return platform.records.write(
            SYSTEM, "sales", lambda unit: platform.actions.run(ActionCall(unit, spec, "account", record))
        )

    assert run({"type": "sample.note", "text": "won {name}"}, {"name": "甲"}) == "won 甲"
    with pytest.raises(InvalidInput) as info:
        run({"type": "sample.note", "text": 3}, {})
    assert info.value.problems[0].pointer == "/text"
    with pytest.raises(InvalidInput, match="unknown action type"):
        run({"type": "nope"}, {})


def test_jobs_and_ui_pages_are_collected(plugged: tuple[Platform, TestClient]) -> None:
    platform, _client = plugged
    jobs: dict[str, Any] = {}
    for provided in platform.plugins.hook.tangram_jobs(platform=platform):
        jobs.update(provided or {})
    assert set(jobs) == {"sample.cleanup"}
    pages = [p for group in platform.plugins.hook.tangram_ui_pages(platform=platform) for p in group or []]
    assert pages[0]["label"]["zh"] == "示例"


def test_plugin_commands_join_the_cli(plugin: SamplePlugin) -> None:
    cli = create_cli(create_plugin_manager([plugin], load_entry_points=False))
    result = CliRunner().invoke(cli, ["sample-hello"])
    assert result.exit_code == 0 and result.output == "hello from a plugin\n"
    assert "sample-hello" in CliRunner().invoke(cli, ["--help"]).output


def test_each_cli_is_built_afresh(plugin: SamplePlugin) -> None:
    create_cli(create_plugin_manager([plugin], load_entry_points=False))
    plain = create_cli(create_plugin_manager(load_entry_points=False))
    assert "sample-hello" not in plain.commands
    assert "sample-hello" not in CliRunner().invoke(plain, ["--help"]).output


def test_a_plugin_section_travels_with_the_package(plugged: tuple[Platform, TestClient]) -> None:
    platform, client = plugged
    schema = client.get("/api/schema/app").json()
    assert schema["properties"]["sample_notes"]["items"]["required"] == ["entity", "text"]

    notes = [{"entity": "account", "text": "大客户"}, {"entity": "acount", "text": "x"}]
    package = {**sales_app(), "sample_notes": notes}
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422
    problems = r.json()["error"]["problems"]
    found = [(p["pointer"], p["message"]) for p in problems]
    assert found == [("/sample_notes/1/entity", "no entity acount")]

    package["sample_notes"][1] = {"entity": "account"}
    r = client.post("/api/apps", json=package)
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["pointer"] == "/sample_notes/1"

    package["sample_notes"] = package["sample_notes"][:1]
    assert client.post("/api/apps", json=package).status_code == 201
    exported = client.get("/api/apps/sales").json()
    assert exported["sample_notes"] == [{"entity": "account", "text": "大客户"}]

    with platform.db.begin() as conn:
        changed = put_section(conn, "sales", "sample_notes", [{"entity": "account", "text": "重点"}], SYSTEM)
    assert changed.section("sample_notes") == [{"entity": "account", "text": "重点"}]
    with platform.db.connect() as conn:
        stored = load_app(conn, "sales")
    assert stored.version == 2 and stored.package.section("sample_notes")[0]["text"] == "重点"
