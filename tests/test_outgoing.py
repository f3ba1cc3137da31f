"""The outgoing URL guard: public addresses pass; private, loopback, link-local, shared and
reserved ones are refused unless allowed by setting; loopback is allowed outside production."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from server.outgoing import OutgoingPolicy, RefusedUrl, check_addresses, check_outgoing
from server.settings import Settings

PROD = OutgoingPolicy.from_settings(Settings(production=True))
DEV = OutgoingPolicy.from_settings(Settings(production=False))
INTERNAL = [
    "http://127.0.0.1:8000/hook", "http://[::1]/", "http://169.254.169.254/latest/meta-data",
    "http://10.0.0.5/", "http://192.168.1.1/", "http://172.16.3.4/", "http://100.64.0.1/",
    "http://0.0.0.0/", "http://[::ffff:10.0.0.1]/", "http://[fe80::1]/", "http://224.0.0.1/",
    "http://localhost:9000/",
]  # fmt: skip


def check(url: str, policy: OutgoingPolicy) -> str:
    return asyncio.run(check_outgoing(url, policy))


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused_in_production(url: str) -> None:
    with pytest.raises(RefusedUrl, match="OUTGOING_ALLOW"):
        check(url, PROD)


def test_public_addresses_pass() -> None:
    assert check("https://93.184.215.14/hook", PROD) == "https://93.184.215.14/hook"
    assert check("http://[2606:4700::1111]:8443/x", PROD) == "http://[2606:4700::1111]:8443/x"


def test_development_allows_loopback_only() -> None:
    assert check("http://127.0.0.1:8000/hook", DEV)
    assert check("http://localhost:9000/", DEV)
    with pytest.raises(RefusedUrl):
        check("http://169.254.169.254/", DEV)


def test_the_setting_allows_networks_and_host_names() -> None:
    policy = OutgoingPolicy.from_settings(
        Settings(production=True, outgoing_allow=" 10.1.0.0/16, Hooks.Internal ,")
    )
    assert check("http://10.1.2.3/", policy)
    assert check("http://hooks.internal/x", policy)  # listed: not even resolved
    with pytest.raises(RefusedUrl):
        check("http://10.2.0.1/", policy)


def test_every_resolved_address_must_pass() -> None:
    public, private = ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.1")
    check_addresses("example.test", [public], PROD)
    with pytest.raises(RefusedUrl, match=r"10\.0\.0\.1"):
        check_addresses("example.test", [public, private], PROD)
    with pytest.raises(RefusedUrl, match="does not resolve"):
        check_addresses("example.test", [], PROD)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http:///x", "http://h:99999/"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(RefusedUrl):
        check(url, PROD)


def test_a_name_that_does_not_resolve_passes_only_when_saved() -> None:
    url = "https://crm.invalid/in"  # .invalid never resolves
    assert asyncio.run(check_outgoing(url, PROD, unresolved_ok=True)) == url
    with pytest.raises(RefusedUrl, match="does not resolve"):
        check(url, PROD)
