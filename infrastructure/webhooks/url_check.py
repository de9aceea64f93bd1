"""The webhook URL rules with a fresh DNS answer: at creation, and before every attempt."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain.webhook_urls import (
    IPAddress,
    RefusedUrl,
    host_of,
    literal_address,
    refused_addresses,
)

RESOLVE_SECONDS = 5.0


def _addresses(infos: Iterable[tuple[Any, ...]]) -> list[IPAddress]:
    found: list[IPAddress] = []
    for info in infos:
        address = literal_address(str(info[4][0]).split("%")[0])  # drop an IPv6 zone
        if address is not None and address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Checked:
    """A URL that may be called now, and the address it resolved to (the one to connect to)."""

    url: str
    host: str
    address: IPAddress


class DnsUrlCheck:
    """`refusal` for the admin routes (blocking); `check` for delivery (asyncio)."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def refusal(self, url: str) -> str | None:
        try:
            host = host_of(url, self.allow_private)
        except RefusedUrl as refused:
            return str(refused)
        literal = literal_address(host)
        if literal is not None:
            return refused_addresses([literal], self.allow_private)
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return "URL host does not resolve to any address"
        return refused_addresses(_addresses(infos), self.allow_private)

    async def check(self, url: str) -> Checked:
        """The address to connect to, or RefusedUrl: every address the name has must pass."""
        host = host_of(url, self.allow_private)
        literal = literal_address(host)
        if literal is not None:
            found = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await asyncio.wait_for(
                    loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), RESOLVE_SECONDS
                )
            except (OSError, UnicodeError, TimeoutError):
                raise RefusedUrl("URL host does not resolve to any address") from None
            found = _addresses(infos)
        refusal = refused_addresses(found, self.allow_private)
        if refusal is not None:
            raise RefusedUrl(refusal)
        return Checked(url, host, found[0])
