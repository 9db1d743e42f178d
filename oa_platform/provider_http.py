"""The one HTTP client of every call to a provider (Zalo, WeChat, generic callbacks, SMS, ZNS, webhooks).

Unless ``settings.ALLOW_PRIVATE_PROVIDER_URLS`` is on, a connection is only opened to a public address: the
host name is resolved here, every address it resolves to must be public (not loopback, link-local, private,
reserved...), and the connection goes to the address that was checked, so a name that resolves to 127.0.0.1,
or that changes its answer between a check and the connect (DNS rebinding), cannot reach the local machine or
the private network. TLS still verifies the certificate against the host name. Proxies from the environment
are not used for provider calls: a proxy would connect on our behalf, past this check.
"""

from __future__ import annotations

import ipaddress
import socket

import httpcore
import httpx
from django.conf import settings

from oa_platform.url_policy import is_public_address


class ProviderAddressRefused(httpx.ConnectError):
    """The provider's host is (or resolves to) an address that is not public."""


def public_address(host: str, port: int) -> str:
    """The first address of ``host``; raises ProviderAddressRefused when any of its addresses is not public."""
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses or not all(is_public_address(a) for a in addresses):
        raise ProviderAddressRefused(f"{host} is not a public address")
    return addresses[0]


class _PublicOnlyBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to the checked public address of the host."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        address = public_address(host, port)
        return self._inner.connect_tcp(
            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise ProviderAddressRefused("unix sockets are not provider addresses")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def provider_client(*, timeout: httpx.Timeout | float) -> httpx.Client:
    """A client for provider calls (see the module docstring)."""
    transport = httpx.HTTPTransport()
    if not settings.ALLOW_PRIVATE_PROVIDER_URLS:
        # httpx has no public way to pass httpcore a network backend; its pool reads this attribute per connect.
        transport._pool._network_backend = _PublicOnlyBackend()
    return httpx.Client(transport=transport, timeout=timeout, trust_env=False)


def provider_post(url: str, *, timeout: httpx.Timeout | float, **kwargs) -> httpx.Response:
    """One POST to a provider with a client of its own."""
    with provider_client(timeout=timeout) as client:
        return client.post(url, **kwargs)
