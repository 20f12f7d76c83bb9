"""form_engine imports rule_engine only, and only through its public face."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "form_engine"
PROJECT_PACKAGES = {"engine", "flow_engine", "report_engine", "builder_ui", "templates_library"}


def test_form_engine_imports_only_the_public_rule_engine() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in PROJECT_PACKAGES, f"{path.name} imports {name}"
                assert name == "rule_engine" or not name.startswith("rule_engine."), (
                    f"{path.name} imports {name}"
                )
        assert "rule_engine.runtime" not in path.read_text("utf-8"), path.name
