"""Roll-ups stay exact when many writers add children to one parent at the same time."""

from __future__ import annotations

import threading
from decimal import Decimal

from fastapi.testclient import TestClient

from engine import Context, Platform, Principal

from .conftest import create, field, label


def test_concurrent_children_all_count(platform: Platform, lab: TestClient) -> None:
    # A child entity with nothing else that serialises its writers (no auto-number).
    part = {
        "name": "part",
        "label": label("部件", "Part"),
        "fields": [field("order", "lookup", entity="order"), field("amount", "number", scale=2)],
    }
    assert lab.put("/api/apps/lab/entities/part", json=part).status_code == 201
    order_def = next(e for e in lab.get("/api/apps/lab").json()["entities"] if e["name"] == "order")
    order_def["fields"].append(
        field("part_total", "rollup", entity="part", link_field="order", function="sum", field="amount")
    )
    assert lab.put("/api/apps/lab/entities/order", json=order_def).status_code == 200
    order = create(lab, "order", {"title": "busy"})
    ctx = Context(user=Principal(id=1, username="admin", is_admin=True))
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(5):
                platform.records.create(ctx, "lab", "part", {"order": order["id"], "amount": "1.25"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stored = platform.records.get(ctx, "lab", "order", order["id"])
    assert stored["part_total"] == Decimal("1.25") * 30
