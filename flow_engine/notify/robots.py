"""Group robots Chinese teams live in: DingTalk, WeCom (企业微信) and Feishu (飞书), each
addressed and signed exactly as its documentation says.

- DingTalk custom robot (加签): ``timestamp`` in milliseconds; ``sign`` is the Base64 of
  HMAC-SHA256 keyed with the secret over ``"{timestamp}\\n{secret}"``, URL-encoded; both go in
  the query string beside ``access_token``. Answers ``{"errcode": 0}``.
- Feishu custom bot (签名校验): ``timestamp`` in seconds; ``sign`` is the Base64 of HMAC-SHA256
  keyed with ``"{timestamp}\\n{secret}"`` over an empty message; both go in the JSON body.
  Answers ``{"code": 0}`` (older bots ``{"StatusCode": 0}``).
- WeCom group robot: no signature; the webhook ``key`` in the URL is the secret. Answers
  ``{"errcode": 0}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any, Literal

from flow_engine.webhooks import DeliveryFailed, json_bytes, post_json

RobotType = Literal["dingtalk", "wecom", "feishu"]
ROBOTS: tuple[RobotType, ...] = ("dingtalk", "wecom", "feishu")


@dataclass(frozen=True)
class RobotRequest:
    url: str
    body: dict[str, Any]


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """Base64 HMAC-SHA256 of ``"{timestamp}\\n{secret}"`` keyed with the secret (not URL-encoded)."""
    text = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), text, hashlib.sha256).digest()).decode("ascii")


def feishu_sign(timestamp_s: int, secret: str) -> str:
    """Base64 HMAC-SHA256 of an empty message keyed with ``"{timestamp}\\n{secret}"``."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def _with_query(url: str, extra: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.urlencode(extra)  # quote_plus: the documented urlEncode of the sign
    return urllib.parse.urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def robot_request(robot: RobotType, url: str, secret: str | None, text: str, now_s: float) -> RobotRequest:
    """The request a robot expects for a text message sent at ``now_s`` (epoch seconds)."""
    if robot == "dingtalk":
        body: dict[str, Any] = {"msgtype": "text", "text": {"content": text}}
        if secret:
            ts = int(now_s * 1000)
            url = _with_query(url, {"timestamp": str(ts), "sign": dingtalk_sign(ts, secret)})
        return RobotRequest(url, body)
    if robot == "feishu":
        body = {"msg_type": "text", "content": {"text": text}}
        if secret:
            ts = int(now_s)
            body = {"timestamp": str(ts), "sign": feishu_sign(ts, secret), **body}
        return RobotRequest(url, body)
    return RobotRequest(url, {"msgtype": "text", "text": {"content": text}})


def send(robot: RobotType, request: RobotRequest) -> None:
    """POST and check the robot's own answer code: robots say no with HTTP 200 and a code."""
    _status, raw = post_json(request.url, json_bytes(request.body))
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        answer = {}
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code not in (0, None):
        detail = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise DeliveryFailed("robot_refused", robot=robot, code=code, detail=detail)
