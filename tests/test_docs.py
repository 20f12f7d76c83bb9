"""The docs are complete: every setting, hook, field type, DSL function and route is described,
and the README's example package and first steps work."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import rule_engine
from engine import Settings
from engine.host import hookspecs
from engine.http import create_app
from form_engine import registry
from tests.engine.access.test_routes_need_auth import walk

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    text = _read("settings.md")
    missing = [n for n in Settings.model_fields if f"`TANGRAM_{n.upper()}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"


def test_every_hook_is_documented() -> None:
    text = _read("plugins.md")
    hooks = [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if n.startswith("tangram_")]
    assert hooks, "hookspecs declares no hooks"
    missing = [h for h in hooks if f"`{h}(" not in text]
    assert not missing, f"document these hooks in docs/plugins.md: {missing}"


def test_every_field_type_is_documented() -> None:
    text = _read("field_types.md")
    missing = [t.name for t in registry if f"`{t.name}`" not in text]
    assert not missing, f"document these field types in docs/field_types.md: {missing}"


def test_every_dsl_function_is_documented() -> None:
    text = _read("rules.md")
    missing = [name for name in rule_engine.FUNCTIONS if f"`{name}(" not in text]
    assert not missing, f"document these DSL functions in docs/rules.md: {missing}"


def test_every_route_is_documented(tmp_path: Path) -> None:
    text = _read("api.md")
    app = create_app(Settings(data_dir=tmp_path, secret_key="x"))
    documented = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?]*)`", text))
    missing = []
    # through included routers, which FastAPI keeps as router objects rather than copies
    for path, methods in walk(app.routes):
        if not path.startswith("/api/"):
            continue
        for method in methods - {"HEAD", "OPTIONS"}:
            normalised = re.sub(r"\{[^}]+\}", "{x}", path)
            if not any(m == method and re.sub(r"\{[^}]+\}", "{x}", p) == normalised for m, p in documented):
                missing.append(f"{method} {path}")
    app.state.platform.close()
    assert not missing, f"document these routes in docs/api.md: {sorted(missing)}"
