"""Files follow the records holding them: a download needs read access to a record holding the
file in a field shown to the caller (the uploader has it until a record does); descriptors
cannot be attached by someone who may not have the file; bytes are typed by their signature
and served so that browsers run nothing in them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from engine import Platform
from engine.http import create_app

from .probe_app import APP, CUSTOMERS, Probe, build_probe

FILES = f"/api/apps/{APP}/files"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


@pytest.fixture
def probe(platform: Platform) -> Iterator[Probe]:
    app = create_app(platform=platform)
    with TestClient(app):
        yield build_probe(platform, app)


def upload(
    client: TestClient, field: str = "docs", name: str = "contract.pdf", data: bytes = b"%PDF-1.7 top secret",
    ctype: str = "application/pdf",
) -> Any:  # fmt: skip
    r = client.post(FILES, params={"entity": "customer", "field": field}, files={"file": (name, data, ctype)})
    return r


def uploaded(client: TestClient, field: str = "docs", **kwargs: Any) -> dict[str, Any]:
    r = upload(client, field, **kwargs)
    assert r.status_code == 201, r.text
    return r.json()


def fetch(client: TestClient, descriptor: dict[str, Any]) -> int:
    return client.get(f"{FILES}/{descriptor['id']}").status_code


def test_a_download_needs_a_readable_record_holding_the_file(probe: Probe) -> None:
    carol, alice, bob = probe.client("carol"), probe.client("alice"), probe.client("bob")
    secret = uploaded(carol)
    r = carol.post(CUSTOMERS, json={"name": "Huawei", "docs": [secret]})
    assert r.status_code == 201, r.text
    assert fetch(carol, secret) == 200
    # alice (own scope) holds the id but no record holding it: as if there were no such file
    assert fetch(alice, secret) == 404 and fetch(bob, secret) == 404
    # nor can she make it hers by attaching the descriptor to her own record
    r = alice.post(CUSTOMERS, json={"name": "mine", "docs": [secret]})
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["code"] == "file_not_found"
    assert fetch(probe.client("admin"), secret) == 200


def test_an_unattached_upload_is_its_uploaders_alone(probe: Probe) -> None:
    alice = probe.client("alice")
    draft = uploaded(alice)
    assert fetch(alice, draft) == 200
    assert fetch(probe.client("bob"), draft) == 404
    assert fetch(probe.client("carol"), draft) == 404  # reads every record, but none holds it
    r = alice.post(CUSTOMERS, json={"name": "mine", "docs": [draft]})
    assert r.status_code == 201, r.text
    assert fetch(probe.client("carol"), draft) == 200  # now a record she reads holds it
    assert fetch(probe.client("bob"), draft) == 404
    # carol may attach a file she may have to another record: she could download it anyway
    r = probe.client("carol").post(CUSTOMERS, json={"name": "copy", "docs": [draft]})
    assert r.status_code == 201, r.text


def test_hidden_and_masked_file_fields_are_not_served(probe: Probe) -> None:
    carol, alice = probe.client("carol"), probe.client("alice")
    contract, scan = uploaded(carol, "contract"), uploaded(carol, "scan")
    record = probe.customer("alice", name="hers", contract=[contract], scan=[scan])
    shown = alice.get(f"{CUSTOMERS}/{record['id']}").json()
    assert "contract" not in shown and contract["id"] not in str(shown["scan"])
    assert fetch(alice, contract) == 404 and fetch(alice, scan) == 404
    assert fetch(carol, contract) == 200 and fetch(carol, scan) == 200
    # a rep may not upload into a field hidden from her
    assert upload(alice, "contract").status_code == 403


def test_an_upload_is_typed_by_its_bytes_not_by_its_claim(probe: Probe) -> None:
    alice = probe.client("alice")
    r = upload(alice, "photos", name="cat.png", data=HTML, ctype="image/png")
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"][0]["code"] == "file_type_not_allowed"
    page = uploaded(alice, name="cat.png", data=HTML, ctype="image/png")
    assert page["content_type"] == "text/html"
    got = alice.get(f"{FILES}/{page['id']}")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in got.headers["content-security-policy"]
    photo = uploaded(alice, "photos", name="cat.bin", data=PNG, ctype="application/octet-stream")
    assert photo["content_type"] == "image/png"
    got = alice.get(f"{FILES}/{photo['id']}")
    assert got.headers["content-disposition"].startswith("inline")
    assert got.headers["x-content-type-options"] == "nosniff"
