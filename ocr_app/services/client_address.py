"""Which network a request comes from, for limits that count per client.

Behind a reverse proxy every request comes from the proxy's address; the
client's own address is then in a header the proxy sets. That header is read
only when ``INKDEX_CLIENT_IP_HEADER`` names it (anyone can send the header, so
it is trusted only where a proxy is known to set it), taking the address the
nearest trusted proxy saw: the ``INKDEX_TRUSTED_PROXY_COUNT``-th entry from the
right. IPv6 addresses are grouped by /64, the block one household or server
usually gets, so walking through one's own addresses is no way around a limit.
"""

from __future__ import annotations

import ipaddress

from ..conf import inkdex

IPV6_GROUP_PREFIX = 64
UNKNOWN = "unknown"


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _forwarded_address(request) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    header = inkdex().client_ip_header
    if not header:
        return None
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    entries = [entry for entry in request.META.get(meta_key, "").split(",") if entry.strip()]
    proxies = max(1, inkdex().trusted_proxy_count)
    # Entries left of the ones our proxies added are whatever the client sent: never trusted.
    if len(entries) < proxies:
        return None
    return _parse(entries[-proxies])


def address_group(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str:
    """The address as limits count it: an IPv4 address, or an IPv6 address's /64 network."""
    if address is None:
        return UNKNOWN
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_GROUP_PREFIX), strict=False))
    return str(address)


def client_address_group(request) -> str:
    """The group of the address ``request`` comes from; ``"unknown"`` without a request."""
    if request is None:
        return UNKNOWN
    address = _forwarded_address(request) or _parse(request.META.get("REMOTE_ADDR", ""))
    return address_group(address)
