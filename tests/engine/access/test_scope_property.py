"""Property: for random records and any user, the rows the list API returns are exactly the
rows the scope rules select, computed here in plain Python from the organisation chart."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ROLES, URL, Org

OWNERS = [None, "rep_e", "rep_w", "head", "director", "viewer", "stranger", "admin"]
REGIONS = ["华东", "华南", "华北", None]
#: Departments as the fixture builds them: user -> department, department -> parent.
HOME = {"rep_e": "east", "rep_w": "west", "head": "east", "director": "hq"}
PARENT = {"east": "hq", "west": "hq", "hq": None}
HEADS = {"east": "head"}


def _tree(roots: set[str]) -> set[str]:
    out = set(roots)
    changed = True
    while changed:
        changed = False
        for dept, parent in PARENT.items():
            if parent in out and dept not in out:
                out.add(dept)
                changed = True
    return out


def visible(who: str, owner: str | None, region: str | None) -> bool:
    """The read rule of the fixture's roles, written independently of the engine."""
    if who == "admin":
        return True
    mine = {HOME[who]} if who in HOME else set()
    mine |= {d for d, head in HEADS.items() if head == who}
    owner_dept = HOME.get(owner) if owner else None
    for role in ROLES[who]:
        if role == "rep" and owner == who:
            return True
        if role == "manager" and (owner == who or owner_dept in mine):
            return True
        if role == "director" and (owner == who or owner_dept in _tree(mine)):
            return True
        if role == "east_viewer" and region == "华东":
            return True
    return False


records_strategy = st.lists(st.tuples(st.sampled_from(OWNERS), st.sampled_from(REGIONS)), max_size=25)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=records_strategy)
def test_list_api_rows_equal_the_scope_rule(
    org: Org, api: Any, rows: list[tuple[str | None, str | None]]
) -> None:
    platform = org.platform
    er = platform.cached_runtime("crm").entity("customer")
    with platform.db.begin() as conn:
        conn.execute(er.table.delete())
        ids = []
        for i, (owner, region) in enumerate(rows):
            record = {
                "name": f"c{i}",
                "region": region,
                "owner": org.users[owner] if owner else None,
                "created_at": sa.func.now(),
                "updated_at": sa.func.now(),
                "version": 1,
            }
            ids.append(conn.execute(er.table.insert().values(record).returning(er.table.c.id)).scalar_one())
    for who in [*ROLES, "admin"]:
        client = org.client(api, who)
        r = client.get(URL, params={"limit": 1000})
        if not ROLES.get(who, True):
            assert r.status_code == 403
            continue
        assert r.status_code == 200, r.text
        expected = {ids[i] for i, (owner, region) in enumerate(rows) if visible(who, owner, region)}
        assert {item["id"] for item in r.json()["items"]} == expected, who
        assert r.json()["total"] == len(expected)
