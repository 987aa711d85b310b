"""Which network addresses a fetch may reach: public ones, and the private networks a setting allows.
The crawl's fetch guard (crawlers/safety.py) and the import's downloads (pipelines/sources/downloads.py)
both ask it."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressPolicy:
    """Public addresses pass; loopback, private, link-local, multicast and other non-public
    ones pass only when one of the allowed networks (ALLOWED_PRIVATE_NETWORKS) holds them."""

    def __init__(self, allowed: Iterable[str] = ()):
        self.allowed: list[Network] = [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in allowed if cidr.strip()]

    def refusal(self, address: Address) -> str | None:
        """Why a connection to this address is refused, or None when it is allowed."""
        kind = address_kind(address)
        if kind is None or any(address in network for network in self.allowed):
            return None
        return f"{address} is not a public address ({kind}) and not in ALLOWED_PRIVATE_NETWORKS"


def address_kind(address: Address) -> str | None:
    """What makes an address non-public, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address_kind(address.ipv4_mapped)
    for kind in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


def literal_address(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
