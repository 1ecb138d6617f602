"""The HTTP transport of a run, which opens connections only after the egress check.

:class:`~hub.sdk.egress.EgressPolicy` checks the host in each URL, but a host
name can resolve to a metadata address such as 169.254.169.254. The
:class:`GuardedNetworkBackend` therefore resolves each host name itself,
checks every address DNS returns, and connects to those addresses, so that a
second lookup cannot return another address between the check and the
connection. TLS still verifies the certificate against the host name.

Requests that go through a proxy configured in the environment
(``HTTPS_PROXY`` and the like) are resolved by the proxy and not checked here.
"""

from __future__ import annotations

import os
import socket
import ssl
import typing
from collections.abc import Callable

import httpcore
import httpx

from hub.sdk.egress import EgressPolicy, parse_ip

# Returns the addresses that a host name resolves to for TCP on ``port``.
Resolver = Callable[[str, int], list[str]]

# The limits httpx gives a client by default, kept for the replaced pool.
POOL_LIMITS = httpx.Limits(
    max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0
)


def resolve_addresses(host: str, port: int) -> list[str]:
    """Return the addresses ``host`` resolves to, in the resolver's order."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedNetworkBackend(httpcore.NetworkBackend):
    """Opens TCP connections only to addresses the egress policy accepts.

    A literal IP address passed the policy with the URL, so it is connected
    to as it is. A host name is resolved with ``resolve``, every address is
    checked with :meth:`EgressPolicy.check_resolved`, and the addresses are
    tried in order until one accepts the connection.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        resolve: Resolver = resolve_addresses,
        inner: httpcore.NetworkBackend | None = None,
    ):
        self.policy = policy
        self.resolve = resolve
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if parse_ip(host) is not None:
            return self.inner.connect_tcp(
                host, port, timeout, local_address, socket_options
            )

        addresses = self._resolve(host, port)
        self.policy.check_resolved(host, port, addresses)

        # As socket.create_connection does, each address is tried in turn and
        # the error of the last one is raised.
        for address in addresses[:-1]:
            try:
                return self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue
        return self.inner.connect_tcp(
            addresses[-1], port, timeout, local_address, socket_options
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self.inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)

    def _resolve(self, host: str, port: int) -> list[str]:
        # A failed lookup is a connect error, so the retry policy treats it
        # like a refused connection: nothing reached the server.
        try:
            addresses = self.resolve(host, port)
        except OSError as error:
            raise httpcore.ConnectError(
                f"DNS lookup of {host!r} failed: {error}"
            ) from error
        if not addresses:
            raise httpcore.ConnectError(f"{host!r} resolved to no address")
        return addresses


class GuardedTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` whose connections open through the egress check."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        ssl_context: ssl.SSLContext,
        resolve: Resolver = resolve_addresses,
    ):
        super().__init__(verify=ssl_context, limits=POOL_LIMITS)
        # NOTE: httpx takes no network backend, so the httpcore pool its
        # constructor built is replaced by one with the same settings and the
        # guarded backend. tests/test_http_resolved.py fails if a later httpx
        # stops sending requests through ``_pool``.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=POOL_LIMITS.max_connections,
            max_keepalive_connections=POOL_LIMITS.max_keepalive_connections,
            keepalive_expiry=POOL_LIMITS.keepalive_expiry,
            network_backend=GuardedNetworkBackend(policy, resolve),
        )


def ssl_context_for(verify: bool | str) -> ssl.SSLContext:
    """Build the TLS context for a connector's ``verify=`` value.

    ``True`` uses certifi's CA bundle (or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``),
    ``False`` turns verification off, and a string names a CA bundle file or
    a directory of CA certificates, as in ``secodadk``. The string form is
    built here because httpx deprecates passing it directly.
    """
    if isinstance(verify, str):
        if os.path.isdir(verify):
            return ssl.create_default_context(capath=verify)
        return ssl.create_default_context(cafile=verify)
    return httpx.create_ssl_context(verify=verify)
