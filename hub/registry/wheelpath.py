"""The rule for a version's ``wheel.path``: it stays inside the registry's directory.

A registry names a stored wheel by a path relative to the registry file (or
URL). ``hub install`` and ``hub registry validate`` check that path before
they open or download anything, so a registry cannot make the hub read a file
such as ``../../etc/passwd``, or fetch from another host with ``//host/x``.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

from hub.errors import RegistryError


def check_relative_path(relative: str, label: str) -> None:
    """Raise :class:`RegistryError` unless ``relative`` is a plain relative path.

    ``label`` names the version in the message, as in ``cluvio 0.1.0``. The
    path is checked after percent-decoding, because a server decodes it.
    """
    decoded = unquote(relative)
    parts = urlsplit(decoded)
    if parts.scheme or parts.netloc:
        reason = "is a URL; give a URL as wheel.url instead"
    elif decoded.startswith(("/", "\\")):
        reason = "is absolute"
    elif "\\" in decoded:
        reason = "contains a backslash; separate folders with /"
    elif ".." in PurePosixPath(decoded).parts:
        reason = "contains '..'"
    else:
        return
    raise _outside_error(relative, label, reason)


def stored_wheel_file(registry_file: Path, relative: str, label: str) -> Path:
    """Return the file ``relative`` names beside a local registry file.

    Raises :class:`RegistryError` when the path breaks
    :func:`check_relative_path` or, once symbolic links are resolved, points
    outside the registry file's directory. Nothing is read.
    """
    check_relative_path(relative, label)
    directory = registry_file.resolve().parent
    wheel = (directory / relative).resolve()
    if not wheel.is_relative_to(directory):
        raise _outside_error(
            relative, label, f"resolves to {wheel}, outside {directory}"
        )
    return wheel


def stored_wheel_url(registry_url: str, relative: str, label: str) -> str:
    """Return the URL ``relative`` names beside a registry URL, on the same origin."""
    check_relative_path(relative, label)
    url = urljoin(registry_url, relative)
    base, joined = urlsplit(registry_url), urlsplit(url)
    if (joined.scheme, joined.netloc) != (base.scheme, base.netloc):
        raise _outside_error(relative, label, f"resolves to {url}, another origin")
    return url


def _outside_error(relative: str, label: str, reason: str) -> RegistryError:
    return RegistryError(
        f"{label}: wheel path {relative!r} {reason}. A wheel path must stay "
        "inside the registry's directory: store the wheel there (hub publish "
        "uses wheels/) and give its path relative to the registry file"
    )
