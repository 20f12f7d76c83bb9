"""The one-way arrows of DESIGN.md, and package boundaries, checked on the source."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "rule_engine",
    "form_engine",
    "engine",
    "flow_engine",
    "report_engine",
    "builder_ui",
    "templates_library",
]

#: package -> project packages it may import (DESIGN.md, "The house").
ALLOWED = {
    "rule_engine": set(),
    "form_engine": {"rule_engine"},
    "engine": {"rule_engine", "form_engine", "templates_library"},
    "flow_engine": {"rule_engine", "form_engine", "engine"},
    "report_engine": {"rule_engine", "form_engine", "engine"},
    "builder_ui": {"rule_engine", "form_engine", "engine"},
    "templates_library": set(),
}


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
    return found


def _sources() -> list[tuple[str, Path]]:
    return [
        (package, path)
        for package in PACKAGES
        if (ROOT / package).is_dir()
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


@pytest.mark.parametrize("package", ["rule_engine", "form_engine", "engine"])
def test_public_api_is_declared(package: str) -> None:
    module = __import__(package)
    assert module.__all__, f"{package}/__init__.py must declare __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not export: {missing}"


def test_imports_follow_the_arrows_and_use_public_faces() -> None:
    problems = []
    for package, path in _sources():
        for module, line in _imports(path):
            top = module.split(".")[0]
            if top not in PACKAGES or top == package:
                continue
            where = f"{path.relative_to(ROOT)}:{line}"
            if top not in ALLOWED[package]:
                problems.append(f"{where}: {package} may not import {top} (see DESIGN.md arrows)")
            elif module != top:
                problems.append(f"{where}: import from {top}'s public face, not {module}")
    assert not problems, "\n".join(problems)


def test_engine_code_has_no_crm_words() -> None:
    crm = re.compile(r"\b(crm|customers?|opportunit(y|ies)|sales ?leads?)\b|商机|客户", re.IGNORECASE)
    problems = []
    for package, path in _sources():
        if package not in {"rule_engine", "form_engine", "engine"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = crm.search(line)
            if match:
                problems.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
    assert not problems, problems


#: Folders (and ground modules) of ``engine/``, top to bottom: each may import its own layer and
#: those below it, never one above (TYPE_CHECKING imports included: a type hint is an arrow too).
ENGINE_LAYERS = [
    ["cli"],
    ["http"],
    ["host"],
    ["records"],
    ["access"],
    ["identity"],
    ["apps"],
    ["schema"],
    ["context", "errors", "clock", "settings", "messages"],
]


def _engine_layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "engine" or len(parts) < 2:
        return None
    for depth, names in enumerate(ENGINE_LAYERS):
        if parts[1] in names:
            return depth
    return None


def test_engine_layers_point_down() -> None:
    problems = []
    for path in sorted((ROOT / "engine").rglob("*.py")):
        relative = path.relative_to(ROOT).with_suffix("")
        if relative.parts[-1] == "__init__" and len(relative.parts) == 2:
            continue  # the package's door re-exports from every layer
        own = _engine_layer(".".join(relative.parts))
        assert own is not None, f"{relative}: not in any layer of ENGINE_LAYERS"
        for module, line in _imports(path):
            target = _engine_layer(module)
            if target is not None and target < own:
                problems.append(f"{relative}:{line}: {module} is a layer above {relative.parts[1]}")
    assert not problems, "\n".join(problems)
