"""The client's address and scheme behind reverse proxies, believed only from trusted proxies.

``X-Forwarded-For`` is written by whoever sends the request, so a server that reads it from
anyone lets a client choose the address its sign-in failures are counted under. Only when the
peer is one of ``TANGRAM_TRUSTED_PROXIES`` is the header read, right to left, skipping the
trusted hops: the first address that is not a trusted proxy is the client (the left part of the
header was written by the client and is never believed past an untrusted hop).
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.settings import Network

_FORWARDED_FOR = b"x-forwarded-for"
_FORWARDED_PROTO = b"x-forwarded-proto"


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        return ip_address(text.strip())
    except ValueError:
        return None


class TrustedProxies:
    """Which peers may name the client, and who the client is according to them."""

    def __init__(self, networks: Sequence[Network]) -> None:
        self.networks = tuple(networks)

    def trusts(self, host: str | None) -> bool:
        address = _address(host) if host else None
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address: the rightmost hop of ``forwarded_for`` that is not a trusted
        proxy (``peer`` itself is one), or the leftmost when every hop is trusted."""
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if _address(hop) is None:
                return peer  # a garbled header: believe no part of it
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer


class ProxyHeadersMiddleware:
    """Rewrites the ASGI ``client`` and ``scheme`` from forwarding headers sent by a trusted
    proxy; from anyone else they are ignored. ``tangram serve`` turns uvicorn's own handling
    (which trusts 127.0.0.1 by default) off, so this is the only place that reads them."""

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self.app = app
        self.proxies = TrustedProxies(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and self.proxies.trusts(client[0]):
            headers = dict(scope["headers"])
            forwarded = headers.get(_FORWARDED_FOR)
            if forwarded is not None:
                host = self.proxies.client(client[0], forwarded.decode("latin-1"))
                scope = {**scope, "client": (host, 0)}
            proto = headers.get(_FORWARDED_PROTO, b"").decode("latin-1").split(",")[-1].strip().lower()
            if proto in ("http", "https"):
                scope = {**scope, "scheme": proto}
        await self.app(scope, receive, send)
