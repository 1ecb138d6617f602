"""The shared credential store and the values one run receives.

Values live in one JSON file, ``credentials.json`` in the hub's configuration
directory, keyed by connector and profile. The file is written with mode 0600
inside a 0700 directory, atomically (temporary file, fsync, rename) and under
an exclusive lock, and a file that other users can read is rejected, as ssh
rejects a readable key.

Environment variables override stored values:
``SECODA_HUB_CRED__<CONNECTOR>__<PROFILE>__<FIELD>``, upper case, for example
``SECODA_HUB_CRED__CLUVIO__DEFAULT__PASSWORD``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from hub.errors import CredentialStoreError, MissingCredentialsError
from hub.sdk.fields import CredentialField

DEFAULT_PROFILE = "default"
STORE_FILE = "credentials.json"
FORMAT_VERSION = 1
ENV_PREFIX = "SECODA_HUB_CRED__"
MASK = "********"

Values = dict[str, str]


class CredentialStore:
    """A JSON file of ``{connector: {profile: {field: value}}}``."""

    def __init__(self, path: Path):
        self.path = path

    def get(self, connector: str, profile: str = DEFAULT_PROFILE) -> Values:
        return dict(self._read().get(connector, {}).get(profile, {}))

    def all(self) -> dict[str, dict[str, Values]]:
        return self._read()

    def set(self, connector: str, profile: str, values: Mapping[str, str]) -> None:
        """Merge ``values`` into the stored profile, keeping other fields."""
        with self._locked():
            data = self._read()
            data.setdefault(connector, {}).setdefault(profile, {}).update(values)
            self._write(data)

    def remove(self, connector: str, profile: str | None = None) -> bool:
        """Delete one profile, or every profile when ``profile`` is None."""
        with self._locked():
            data = self._read()
            if connector not in data:
                return False
            if profile is None:
                del data[connector]
            elif data[connector].pop(profile, None) is None:
                return False
            elif not data[connector]:
                del data[connector]
            self._write(data)
        return True

    def _read(self) -> dict[str, dict[str, Values]]:
        if not self.path.exists():
            return {}
        self._check_permissions()
        text = self.path.read_text(encoding="utf-8")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise CredentialStoreError(
                f"credential store {self.path} is not valid JSON "
                f"(line {error.lineno}, column {error.colno}: {error.msg}); "
                "fix or move the file, then store the values again"
            ) from None
        return _connectors_of(document, self.path)

    def _write(self, data: dict[str, dict[str, Values]]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        document = {"format": FORMAT_VERSION, "connectors": data}
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)

        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=".credentials-", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(self.path.parent)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _check_permissions(self) -> None:
        mode = self.path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialStoreError(
                f"credential store {self.path} is readable by other users "
                f"(mode {stat.filemode(mode)}); run `chmod 600 {self.path}`"
            )


def _connectors_of(document: object, path: Path) -> dict[str, dict[str, Values]]:
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise CredentialStoreError(
            f"credential store {path} has an unknown layout (expected an object "
            f'with "format": {FORMAT_VERSION}); move the file away and store '
            "the values again"
        )
    connectors = document.get("connectors", {})
    if not isinstance(connectors, dict):
        raise CredentialStoreError(
            f'credential store {path}: "connectors" is not an object'
        )
    return connectors


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def env_name(connector: str, profile: str, field: str) -> str:
    """Return the environment variable that overrides one stored field."""
    parts = (connector, profile, field)
    return ENV_PREFIX + "__".join(re.sub(r"\W", "_", part).upper() for part in parts)


def env_values(
    connector: str, profile: str, environ: Mapping[str, str] | None = None
) -> Values:
    """Collect the fields set for one connector profile in the environment."""
    environ = os.environ if environ is None else environ
    prefix = env_name(connector, profile, "")
    return {
        key[len(prefix) :].lower(): value
        for key, value in environ.items()
        if key.startswith(prefix) and len(key) > len(prefix)
    }


def resolve(
    connector: str,
    profile: str,
    fields: Sequence[CredentialField],
    stored: Values,
    environ: Mapping[str, str] | None = None,
) -> Values:
    """Merge stored values, environment overrides and declared defaults.

    Raises :class:`MissingCredentialsError` naming every required field that
    is still unset, with the command that stores them.
    """
    values = {**stored, **env_values(connector, profile, environ)}
    for declared in fields:
        if declared.name not in values and declared.default is not None:
            values[declared.name] = declared.default

    missing = [f.name for f in fields if f.required and not values.get(f.name)]
    if missing:
        raise MissingCredentialsError(
            _missing_message(connector, profile, fields, missing), missing
        )
    return values


def _missing_message(
    connector: str, profile: str, fields: Sequence[CredentialField], missing: list[str]
) -> str:
    secret = {f.name for f in fields if f.secret}
    # Secret fields are left to the prompt so the value stays out of shell history.
    given = " ".join(f"{name}=..." for name in missing if name not in secret)
    profile_option = "" if profile == DEFAULT_PROFILE else f" --profile {profile}"
    command = f"hub credentials set {connector}{profile_option} {given}".rstrip()
    return (
        f"missing credentials for {connector!r} (profile {profile!r}): "
        f"{', '.join(missing)}. Store them with `{command}`"
        + (" (secret fields are prompted for)" if secret & set(missing) else "")
        + f", or set {env_name(connector, profile, missing[0])} and the like."
    )


def secret_field_names(fields: Sequence[CredentialField], values: Mapping) -> set[str]:
    """Name the fields whose values must never be shown.

    A field counts as secret unless the connector declares it as not secret,
    so the values of connectors that declare nothing are all kept hidden.
    """
    public = {f.name for f in fields if not f.secret}
    return {name for name in values if name not in public}


def masked(fields: Sequence[CredentialField], values: Mapping[str, str]) -> Values:
    """Return ``values`` with every secret replaced by a mask."""
    secret = secret_field_names(fields, values)
    return {name: MASK if name in secret else value for name, value in values.items()}
