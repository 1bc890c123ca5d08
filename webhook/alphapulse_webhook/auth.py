"""Who is calling: the client address behind trusted reverse proxies, the IP allowlist, the feed token.

The forwarded header (``Settings.forwarded_header``, e.g. ``X-Forwarded-For``) is read only when the
TCP peer is one of ``Settings.trusted_proxies``; otherwise the peer itself is the client, so a
client cannot pick its address by sending the header. Inside the header, addresses are read from
the right (the one the nearest proxy appended) and trusted proxies are skipped; the first
untrusted address is the client. Run uvicorn with ``proxy_headers=False`` (``alphapulse webhook
serve`` does) so that the peer address reaching the app is the real one.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alphapulse_webhook.settings import Settings

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _networks(items: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _address(text: str) -> IPAddress | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True, slots=True)
class SourcePolicy:
    """Resolves the client address of a request and decides whether it may send alerts."""

    allowlist_enabled: bool
    allowlist: tuple[IPNetwork, ...]
    forwarded_header: str | None
    trusted_proxies: tuple[IPNetwork, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> SourcePolicy:
        return cls(
            allowlist_enabled=settings.ip_allowlist_enabled,
            allowlist=_networks(settings.ip_allowlist),
            forwarded_header=settings.forwarded_header,
            trusted_proxies=_networks(settings.trusted_proxies),
        )

    def _trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted_proxies)

    def client_address(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The client's address: the peer, or the forwarded address when the peer is a trusted proxy.

        Returns the text ``"unknown"`` when the peer is unknown or a forwarded value is unreadable
        (such a client never passes the allowlist).
        """
        peer_address = _address(peer) if peer else None
        if peer_address is None:
            return "unknown"
        if self.forwarded_header is None or not self._trusted(peer_address):
            return str(peer_address)
        raw = headers.get(self.forwarded_header)
        if raw is None or not raw.strip():
            return str(peer_address)
        hops = raw.split(",")
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return "unknown"
            if not self._trusted(address):
                return str(address)
        first = _address(hops[0])
        return str(first) if first is not None else "unknown"

    def allowed(self, client: str) -> bool:
        """Whether ``client`` (from :meth:`client_address`) may send alerts."""
        if not self.allowlist_enabled:
            return True
        address = _address(client)
        return address is not None and any(address in network for network in self.allowlist)


def bearer_token_matches(authorization: str | None, expected: str) -> bool:
    """Check an ``Authorization: Bearer <token>`` header against ``expected`` in constant time."""
    if not authorization:
        return False
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode("utf-8"), expected.encode("utf-8"))
