"""Nurture journeys: tracked e-mails days apart, branches on opens and clicks, tags by interest;
the tracking pixel and link refuse forged and unknown tokens without recording anything."""

from __future__ import annotations

import email
import re
from email.message import Message
from typing import Any

import pytest
import sqlalchemy as sa

from flow_engine.marketing import PIXEL
from flow_engine.marketing.tables import events, messages
from flow_engine.marketing.tokens import new_nonce, token_of
from tests.flow_engine.marketing.conftest import PUBLIC_URL, Shop

LINK = "https://shop.example.cn/product-a"
TRACKED = {"opened_field": "email_opened_at", "clicked_field": "email_clicked_at"}


def _mail(key: str, subject: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "marketing_email",
        "key": key,
        "to": "email",
        "subject": {"zh": subject, "en": subject},
        "body": {"zh": "您好 {name}：\n请看 {link}", "en": "Hello {name}: see {link}"},
        **TRACKED,
        **extra,
    }


NURTURE = {
    "name": "nurture",
    "label": {"zh": "培育", "en": "Nurture"},
    "entity": "account",
    "trigger": {"type": "manual"},
    "nodes": [
        {"id": "start", "type": "start", "next": "welcome"},
        {
            "id": "welcome",
            "type": "action",
            "actions": [_mail("welcome", "welcome", link=LINK)],
            "next": "wait",
        },
        {"id": "wait", "type": "wait", "for": {"days": 3}, "next": "branch"},
        {
            "id": "branch",
            "type": "condition",
            "branches": [
                {"when": "email_clicked_at is not null", "next": "interested"},
                {"when": "email_opened_at is not null", "next": "opened"},
            ],
            "default": "reminder",
        },
        {
            "id": "interested",
            "type": "action",
            "actions": [
                {"type": "add_tags", "field": "interests", "tags": ["product_a"]},
                _mail("offer", "offer"),
            ],
            "next": "end",
        },
        {"id": "opened", "type": "action", "actions": [_mail("second", "second look")], "next": "end"},
        {"id": "reminder", "type": "action", "actions": [_mail("reminder", "reminder")], "next": "end"},
        {"id": "end", "type": "end"},
    ],
}
SEGMENT = {"name": "everyone", "entity": "account", "rule": "not is_blank(email)"}


def _journey_shop(shop_factory: Any) -> Shop:
    shop: Shop = shop_factory(segments=[SEGMENT], flows=[NURTURE])
    return shop


def _publish(shop: Shop, client: Any) -> None:
    r = client.post("/api/apps/shop/flows/nurture/publish")
    assert r.status_code in (200, 201), r.text


def _received(shop: Shop) -> list[tuple[str, Message]]:
    """(recipient, parsed message) of every e-mail the local SMTP server accepted."""
    return [(to[0], email.message_from_bytes(raw)) for _from, to, raw in shop.mailbox.messages]


def _html(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no HTML part")


def _tracking(message: Message, kind: str) -> str:
    found = re.search(rf'{re.escape(PUBLIC_URL)}(/api/track/{kind}/[A-Za-z0-9_.\-]+)"', _html(message))
    assert found is not None, _html(message)
    return found.group(1)


def _subjects(shop: Shop) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for to, message in _received(shop):
        out.setdefault(to, []).append(str(message["Subject"]))
    return out


def test_a_journey_branches_on_the_previous_e_mail_being_opened_or_clicked(shop_factory, http_for) -> None:
    shop = _journey_shop(shop_factory)
    admin = http_for(shop)
    _publish(shop, admin)
    people = {
        name: shop.create("account", {"name": name, "email": f"{name}@example.cn"})
        for name in ("ann", "bob", "cyd")
    }
    shop.create("account", {"name": "no address"})
    r = admin.post("/api/apps/shop/segments/everyone/enrol", json={"flow": "nurture"})
    assert r.status_code == 200, r.text
    assert len(r.json()["started"]) == 3
    shop.run_due()
    sent = {to: message for to, message in _received(shop)}
    assert set(sent) == {"ann@example.cn", "bob@example.cn", "cyd@example.cn"}
    assert all(m["Subject"] == "welcome" for m in sent.values())

    anonymous = http_for(shop, None)
    pixel = anonymous.get(_tracking(sent["ann@example.cn"], "open"))
    assert pixel.status_code == 200 and pixel.content == PIXEL
    assert pixel.headers["content-type"] == "image/gif"
    click = anonymous.get(_tracking(sent["bob@example.cn"], "click"), params={"url": "https://evil.example"})
    assert click.status_code == 302 and click.headers["location"] == LINK
    assert shop.get("account", people["ann"]["id"])["email_opened_at"] is not None
    assert shop.get("account", people["bob"]["id"])["email_clicked_at"] is not None

    # nothing moves before the wait is over; after it, each member goes down their branch
    shop.clock.advance(days=2)
    shop.run_due()
    assert len(shop.mailbox.messages) == 3
    shop.clock.advance(days=1, minutes=1)
    shop.run_due()
    assert _subjects(shop) == {
        "ann@example.cn": ["welcome", "second look"],
        "bob@example.cn": ["welcome", "offer"],
        "cyd@example.cn": ["welcome", "reminder"],
    }
    assert shop.get("account", people["bob"]["id"])["interests"] == ["product_a"]
    assert not shop.get("account", people["ann"]["id"])["interests"]
    # a later e-mail starts its own tracking: the fields speak of the last one sent
    assert shop.get("account", people["bob"]["id"])["email_clicked_at"] is None


def test_enrolling_again_starts_nobody_twice(shop_factory, http_for) -> None:
    shop = _journey_shop(shop_factory)
    admin = http_for(shop)
    _publish(shop, admin)
    shop.create("account", {"name": "ann", "email": "ann@example.cn"})
    first = admin.post("/api/apps/shop/segments/everyone/enrol", json={"flow": "nurture"}).json()
    again = admin.post("/api/apps/shop/segments/everyone/enrol", json={"flow": "nurture"}).json()
    assert (len(first["started"]), again) == (1, {"started": [], "already_enrolled": 1})
    shop.run_due()
    shop.run_due()
    assert len(shop.mailbox.messages) == 1


def _event_count(shop: Shop) -> int:
    with shop.platform.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one())


@pytest.mark.parametrize("kind", ["open", "click"])
def test_forged_and_unknown_tokens_are_404_and_record_nothing(shop_factory, http_for, kind) -> None:
    shop = _journey_shop(shop_factory)
    admin = http_for(shop)
    _publish(shop, admin)
    account = shop.create("account", {"name": "ann", "email": "ann@example.cn"})
    admin.post("/api/apps/shop/segments/everyone/enrol", json={"flow": "nurture"})
    shop.run_due()
    ((_to, message),) = _received(shop)
    genuine = _tracking(message, kind)
    nonce, _, signature = genuine.rsplit("/", 1)[1].partition(".")
    secret = shop.platform.settings.resolved_secret_key()
    anonymous = http_for(shop, None)
    forged = [
        f"/api/track/{kind}/{nonce}.{signature[:-2]}xx",  # the right message, a wrong signature
        f"/api/track/{kind}/{nonce}",  # no signature
        f"/api/track/{kind}/{token_of('another-secret', nonce)}",  # signed by someone else
        f"/api/track/{kind}/{token_of(secret, new_nonce())}",  # well signed, no such message
    ]
    for path in forged:
        r = anonymous.get(path)
        assert r.status_code == 404, (path, r.text)
    assert _event_count(shop) == 0
    assert shop.get("account", account["id"])["email_opened_at"] is None
    with shop.platform.db.connect() as conn:
        assert conn.execute(sa.select(messages.c.opened_at)).scalar_one() is None
    assert anonymous.get(genuine).status_code in (200, 302)
    assert _event_count(shop) == 1
