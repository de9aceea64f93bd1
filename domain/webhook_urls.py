"""The rules a webhook URL must meet: its form, and the addresses its host may resolve to."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedUrl(ValueError):
    """Why a URL may not receive webhooks (the message names the rule)."""


def host_of(url: str, allow_private: bool) -> str:
    """The host to resolve, or RefusedUrl for a URL whose form breaks a rule."""
    if len(url) > MAX_URL_LENGTH:
        raise RefusedUrl(f"URL must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port  # a bad port raises here
    except ValueError:
        raise RefusedUrl("URL is not a valid absolute URL") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise RefusedUrl("URL must use https")
    if "@" in parts.netloc:
        raise RefusedUrl("URL must not contain a user name or password")
    host = parts.hostname
    if not host or any(c.isspace() for c in url) or port == 0:
        raise RefusedUrl("URL is not a valid absolute URL")
    return host


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally (`203.0.113.9`, `[2001:db8::1]` as `2001:db8::1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: not loopback, private, link-local, multicast or reserved."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_unspecified
    )


def refused_addresses(addresses: Iterable[IPAddress], allow_private: bool) -> str | None:
    """Why the host may not be called (None: it may): none found, or one not public."""
    found = list(addresses)
    if not found:
        return "URL host does not resolve to any address"
    if allow_private:
        return None
    for address in found:
        if not is_public(address):
            return f"URL host resolves to a non-public address ({address})"
    return None
