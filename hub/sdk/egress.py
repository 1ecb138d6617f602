"""The egress allowlist: which hosts a connector's requests may reach.

An entry is ``host`` (any port), ``host:port``, ``*.example.com`` (any
subdomain of example.com, not example.com itself) or ``*.example.com:port``.
A wildcard names at least two labels, so ``*.com`` is invalid.
IPv6 literals are written in brackets, as in URLs: ``[::1]:8080``.

Link-local and cloud metadata addresses are rejected even with no allowlist,
unless an entry names them exactly (a wildcard does not count). The URL's host
is checked before a request is built, and the addresses a host name resolves
to are checked again when a connection opens (see :mod:`hub.sdk.transport`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass

import httpx

from hub.errors import EgressDeniedError

# Host names that cloud providers resolve to their instance metadata service.
METADATA_HOSTNAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)

# 169.254.0.0/16 contains 169.254.169.254, the metadata address of AWS, GCP,
# Azure and OpenStack. fe80::/10 is IPv6 link-local, and fd00:ec2::254 is the
# AWS metadata service over IPv6.
METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),
)

DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class HostPattern:
    """One parsed allowlist entry, where ``port`` None matches every port."""

    host: str
    port: int | None
    wildcard: bool

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host


def parse_entry(entry: str) -> HostPattern:
    """Parse one allowlist entry, raising ValueError naming a bad one."""
    text = entry.strip().lower()
    wildcard = text.startswith("*.")
    if wildcard:
        text = text[2:]

    try:
        url = httpx.URL(f"http://{text}")
    except httpx.InvalidURL as error:
        raise ValueError(f"allowlist entry {entry!r} is invalid: {error}") from None
    if not url.host or url.path not in ("", "/") or url.query or url.userinfo:
        raise ValueError(
            f"allowlist entry {entry!r} is invalid; write host, host:port "
            "or *.domain, with no scheme or path"
        )
    host = normalize_host(url.host)
    if wildcard and "." not in host:
        raise ValueError(
            f"allowlist entry {entry!r} is too broad: a wildcard needs at least "
            "two labels after '*.', such as *.example.com"
        )
    return HostPattern(host=host, port=url.port, wildcard=wildcard)


def normalize_host(host: str) -> str:
    # A trailing dot names the same DNS host, so it must not dodge a check.
    return host.lower().rstrip(".")


def parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the address a literal host names, or None for a host name.

    Besides dotted quads this accepts the forms that the C resolver also
    accepts, such as ``2852039166`` or ``0xa9.0xfe.0xa9.0xfe``, because a
    connection to them reaches the same address.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_metadata_host(host: str) -> bool:
    """Tell whether ``host`` is a link-local or cloud metadata address or name."""
    if host in METADATA_HOSTNAMES:
        return True
    address = parse_ip(host)
    if address is None:
        return False
    return any(address in network for network in METADATA_NETWORKS)


class EgressPolicy:
    """Checks each request URL before any connection is opened.

    ``allowed_hosts`` None turns the allowlist off, but metadata addresses are
    still rejected. An empty collection rejects every host.
    """

    def __init__(
        self,
        allowed_hosts: Collection[str] | None,
        allow_hint: Callable[[str], str] | None = None,
    ):
        self.patterns = (
            None
            if allowed_hosts is None
            else tuple(parse_entry(entry) for entry in allowed_hosts)
        )
        self.allow_hint = allow_hint
        # Runs call the same few origins thousands of times, so each decision
        # is kept. The key is small and bounded by the origins a run uses.
        self._allowed: set[tuple[str, str, int]] = set()

    def check(self, url: httpx.URL) -> None:
        """Raise EgressDeniedError unless the policy allows ``url``'s host."""
        scheme = url.scheme
        port = url.port or DEFAULT_PORTS.get(scheme, 0)
        key = (scheme, url.host, port)
        if key in self._allowed:
            return

        host = normalize_host(url.host)
        if scheme not in DEFAULT_PORTS:
            raise EgressDeniedError(
                f"request to {url.host!r} rejected: scheme {scheme!r} is not "
                "http or https"
            )
        reason = self._rejection(host, port)
        if reason is not None:
            raise EgressDeniedError(self._message(host, port, reason))
        self._allowed.add(key)

    def _rejection(self, host: str, port: int) -> str | None:
        if self._is_unlisted_metadata(host, port):
            return (
                "it is a link-local or cloud metadata address, which is only "
                "reachable when the allowlist names it exactly"
            )
        # A host name that resolves to a metadata address passes here, and
        # check_resolved rejects it once the transport has resolved it.
        if self.patterns is None:
            return None
        if any(pattern.matches(host, port) for pattern in self.patterns):
            return None
        return "it is not on the connector's allowlist of hosts"

    def check_resolved(self, host: str, port: int, addresses: list[str]) -> None:
        """Raise EgressDeniedError if ``host`` resolved to a metadata address.

        ``addresses`` are what DNS returned for ``host``. An address passes
        when it is no metadata address, or when an entry names the host or
        that address exactly.
        """
        host = normalize_host(host)
        if self._listed_exactly(host, port):
            return
        for address in addresses:
            if self._is_unlisted_metadata(address, port):
                reason = (
                    f"it resolves to {address}, a link-local or cloud metadata "
                    "address, which is only reachable when the allowlist names "
                    "the host or the address exactly"
                )
                raise EgressDeniedError(self._message(host, port, reason))

    def _is_unlisted_metadata(self, host: str, port: int) -> bool:
        return is_metadata_host(host) and not self._listed_exactly(host, port)

    def _listed_exactly(self, host: str, port: int) -> bool:
        patterns = self.patterns or ()
        return any(not p.wildcard and p.matches(host, port) for p in patterns)

    def _message(self, host: str, port: int, reason: str) -> str:
        message = f"request to host {host!r} (port {port}) rejected: {reason}"
        if self.allow_hint is not None:
            message = f"{message}; {self.allow_hint(host)}"
        return message
