"""Parsing the hosts a user allows a connector profile to call."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from hub.errors import ConfigurationError

logger = logging.getLogger(__name__)

# A DNS name, optionally "*." for every subdomain, or an IPv4 address. IPv6
# literals are given in brackets, as in URLs.
_HOST = re.compile(
    r"^(\[[0-9a-fA-F:.]+\]|(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$"
)


def normalize_host(spec: str) -> str:
    """Return ``host`` or ``host:port`` in lower case, checking its form.

    A wildcard must name at least two labels after ``*.``, so ``*.com``,
    which would allow every host under a top-level domain, is rejected.
    """
    text = spec.strip().lower()
    host, colon, port = text.rpartition(":") if _has_port(text) else (text, "", "")
    if not _HOST.match(host) or (colon and not _valid_port(port)):
        raise ConfigurationError(
            f"allowed host {spec!r} is invalid; give a host name or address, "
            "optionally with a port, for example api.example.com or 127.0.0.1:8080"
        )
    if host.startswith("*.") and "." not in host[2:]:
        raise ConfigurationError(
            f"allowed host {spec!r} is too broad: a wildcard needs at least two "
            f"labels after '*.', such as *.example.com, and {host} would allow "
            "every host under a top-level domain"
        )
    return f"{host}:{int(port)}" if colon else host


def host_of_url(url: str) -> str:
    """Return the ``host`` or ``host:port`` of an http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"base_url {url!r} is not an http(s) URL, so it names no host to "
            "allow; store a URL such as https://api.example.com"
        )
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return normalize_host(f"{host}:{parts.port}" if parts.port else host)


def merge_hosts(current: list[str], added: list[str]) -> list[str]:
    """Return ``current`` followed by the new entries of ``added``, in order.

    Logs a warning for each new entry that names a link-local or cloud
    metadata address, which the egress check otherwise rejects.
    """
    merged = list(current)
    for host in added:
        if host not in merged:
            _warn_if_metadata(host)
            merged.append(host)
    return merged


def _warn_if_metadata(entry: str) -> None:
    # Imported here, because the SDK's HTTP modules are only needed once a
    # host is stored, not for every read of the store.
    from hub.sdk.egress import is_metadata_host

    host = entry.rpartition(":")[0] if _has_port(entry) else entry
    if is_metadata_host(host.strip("[]")):
        logger.warning(
            "allowed host %s is a link-local or cloud metadata address, "
            "where a cloud machine's instance metadata and credentials are served; "
            "keep it only for a server of your own at that address",
            entry,
        )


def _has_port(text: str) -> bool:
    if text.startswith("["):
        return "]:" in text
    return text.count(":") == 1


def _valid_port(port: str) -> bool:
    return port.isdigit() and 0 < int(port) < 65536
