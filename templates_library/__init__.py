"""App packages shipped with Tangram, as data: one folder per template holding ``package.json``
and ``template.json`` (its manifest: the template's ``version``, which the package format has no
place for).

The kernel installs them like any package an admin uploads; nothing here is code the engines
run, so a template proves the engines hold nothing specific to it.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

__all__ = ["TemplateNotFound", "available", "demo_plan", "load", "version"]


class TemplateNotFound(LookupError):
    """No template of that name ships with this version."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known


def available() -> list[dict[str, Any]]:
    """Every bundled template: name, version, label and description (zh/en), entity count."""
    found = []
    for folder in sorted(resources.files(__name__).iterdir(), key=lambda p: p.name):
        if folder.is_dir() and folder.joinpath("package.json").is_file():
            package = _read(folder.name)
            found.append(
                {
                    "name": folder.name,
                    "version": _manifest(folder.name)["version"],
                    "label": package["label"],
                    "description": package.get("description"),
                    "entities": len(package.get("entities", [])),
                }
            )
    return found


def load(name: str) -> dict[str, Any]:
    """A fresh copy of template ``name``'s package document."""
    if name not in {t["name"] for t in available()}:
        raise TemplateNotFound(name, [t["name"] for t in available()])
    return _read(name)


def version(name: str) -> str:
    """The version of template ``name`` this release ships; an installed app records it, so an
    upgrade knows which version the admin's changes were made against."""
    load(name)  # refuses an unknown template
    return str(_manifest(name)["version"])


def _manifest(name: str) -> dict[str, Any]:
    path = resources.files(__name__).joinpath(name, "template.json")
    manifest: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    manifest.setdefault("version", "0")
    return manifest


def _read(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(name, "package.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def demo_plan(name: str) -> dict[str, Any] | None:
    """The template's sample-data plan (``demo.json``: departments with heads, users, the
    sections to publish, records), if it has one."""
    load(name)  # refuses an unknown template
    path = resources.files(__name__).joinpath(name, "demo.json")
    if not path.is_file():
        return None
    plan: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return plan
