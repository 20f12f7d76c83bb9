"""The division list the 省 / 市 / 区 selects are filled from: the whole bundled list, each
division under the one above it, served to anyone and revalidated by its ETag, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

import builder_ui.plugin
from engine import Platform, Settings
from engine.http import create_app
from form_engine import regions
from tests.conftest import TEST_HASH_COST


def _walk(nodes: list[Any], parent: str | None, out: dict[str, str | None]) -> None:
    for node in nodes:
        out[node[0]] = parent
        _walk(node[2] if len(node) > 2 else [], node[0], out)


def test_region_tree_holds_every_division_under_its_parent(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="region-test",
        password_hash_cost=TEST_HASH_COST,
    )
    platform = Platform(settings, plugins=[builder_ui.plugin], load_entry_points=False)
    platform.init_database()
    try:
        with TestClient(create_app(platform=platform)) as client:
            r = client.get("/ui/data/regions")  # no session: a public form needs it too
            assert r.status_code == 200, r.text
            parents: dict[str, str | None] = {}
            _walk(r.json(), None, parents)
            assert set(parents) == set(regions.table().by_code)
            for code, parent in parents.items():
                assert regions.table().by_code[code].parent == parent, code
            assert "max-age" in r.headers["cache-control"]
            again = client.get("/ui/data/regions", headers={"If-None-Match": r.headers["etag"]})
            assert again.status_code == 304
    finally:
        platform.close()
