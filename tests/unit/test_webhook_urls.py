"""The webhook URL rules: form, scheme, and which addresses count as public."""

from __future__ import annotations

import ipaddress

import pytest

from domain.webhook_urls import RefusedUrl, host_of, is_public, refused_addresses

NOT_PUBLIC = [
    "127.0.0.1",  # loopback
    "10.1.2.3",  # private
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local (cloud metadata)
    "100.64.0.1",  # shared address space
    "0.0.0.0",  # noqa: S104 - an address under test, not a bind
    "224.0.0.1",  # multicast
    "240.0.0.1",  # reserved
    "255.255.255.255",
    "192.0.2.1",  # documentation
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert refused_addresses([ipaddress.ip_address(address)], allow_private=False)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    addresses = [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("10.0.0.1")]
    assert refused_addresses(addresses, allow_private=False)
    assert refused_addresses(addresses, allow_private=True) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "ftp://example.com/hook",
        "https://user:pass@example.com/hook",
        "https://user@example.com/hook",
        "https:///hook",
        "https://example.com:99999/hook",
        "example.com/hook",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_urls_of_the_wrong_form_are_refused(url: str) -> None:
    with pytest.raises(RefusedUrl):
        host_of(url, allow_private=False)


def test_allow_private_also_allows_http() -> None:
    assert host_of("http://127.0.0.1:8080/hook", allow_private=True) == "127.0.0.1"
    assert host_of("https://[::1]/hook", allow_private=False) == "::1"
