"""The default credential backend: one protected JSON file.

Values live in ``credentials.json`` in the hub's configuration directory. The
file is written with mode 0600 inside a 0700 directory, atomically (temporary
file, fsync, rename) and under an exclusive lock. A file that other users can
read is rejected, as ssh rejects a readable key. A file that fails to parse,
or whose layout does not match
:class:`~hub.credentials.document.StoreDocument`, is never replaced:
every write reads it first and stops with the error.

With ``SECODA_HUB_CREDENTIALS_KEY`` set to a Fernet key, the file contains one
encrypted token instead of plain JSON. A plain file is encrypted on its next
write once the key is set.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hub.credentials import encryption
from hub.credentials.backend import CredentialBackend, Values
from hub.credentials.document import (
    ENCRYPTED_STORE,
    FORMAT_VERSION,
    STORE,
    STORE_LAYOUT,
    validate_document,
)
from hub.credentials.hosts import merge_hosts
from hub.credentials.values import DEFAULT_PROFILE
from hub.errors import CredentialStoreError

STORE_FILE = "credentials.json"

Connectors = dict[str, dict[str, Values]]
Hosts = dict[str, dict[str, list[str]]]


class CredentialStore(CredentialBackend):
    """A JSON file of ``{connector: {profile: {field: value}}}``."""

    name = "file"

    def __init__(self, path: Path):
        self.path = path

    @property
    def location(self) -> str:
        return str(self.path)

    def get(self, connector: str, profile: str = DEFAULT_PROFILE) -> Values:
        connectors, _ = self._read()
        return dict(connectors.get(connector, {}).get(profile, {}))

    def all(self) -> Connectors:
        connectors, _ = self._read()
        return connectors

    def allowed_hosts(self, connector: str, profile: str = DEFAULT_PROFILE):
        _, hosts = self._read()
        return list(hosts.get(connector, {}).get(profile, []))

    def set(
        self,
        connector: str,
        profile: str,
        values: Mapping[str, str],
        hosts: Iterable[str] = (),
    ) -> None:
        with self.locked():
            connectors, allowed = self._read()
            connectors.setdefault(connector, {}).setdefault(profile, {}).update(values)
            hosts = list(hosts)
            if hosts:
                current = allowed.setdefault(connector, {}).get(profile, [])
                allowed[connector][profile] = merge_hosts(current, hosts)
            self._write(connectors, allowed)

    def remove(self, connector: str, profile: str | None = None) -> bool:
        with self.locked():
            connectors, allowed = self._read()
            if not _remove_profile(connectors, connector, profile):
                return False
            _remove_profile(allowed, connector, profile)
            self._write(connectors, allowed)
        return True

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock, which every writer takes."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _read(self) -> tuple[Connectors, Hosts]:
        if not self.path.exists():
            return {}, {}
        self._check_permissions()
        document = self._parse(self._read_text())
        if isinstance(document, dict) and "encrypted" in document:
            return self._read_encrypted(document)
        fix = (
            f"Correct the file to the layout {STORE_LAYOUT}, or move it away "
            "and store the values again; the hub will not overwrite it"
        )
        store = validate_document(STORE, document, self._source, fix)
        return store.connectors, store.allowed_hosts

    def _read_encrypted(self, document: dict) -> tuple[Connectors, Hosts]:
        # The fix differs from the plain file's: the values cannot be edited
        # without decrypting the file, so moving it away is the way out.
        fix = (
            "Move the file away and store the values again; the hub will not "
            "overwrite it"
        )
        wrapper = validate_document(ENCRYPTED_STORE, document, self._source, fix)
        fernet = encryption.key_from_environment()
        text = encryption.decrypt(fernet, wrapper.encrypted, self.path)
        source = f"{self._source} (after decryption)"
        store = validate_document(STORE, self._parse(text), source, fix)
        return store.connectors, store.allowed_hosts

    @property
    def _source(self) -> str:
        return f"credential store {self.path}"

    def _read_text(self) -> str:
        data = self.path.read_bytes()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CredentialStoreError(
                f"credential store {self.path} is not UTF-8 text (byte "
                f"0x{data[error.start]:02x} at offset {error.start} is invalid); "
                "the hub will not overwrite it. Save it as UTF-8, or move it "
                "away and store the values again"
            ) from None

    def _parse(self, text: str) -> object:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CredentialStoreError(
                f"credential store {self.path} is not valid JSON "
                f"(line {error.lineno}, column {error.colno}: {error.msg}); "
                "the hub will not overwrite it. Fix it, or move it away and "
                "store the values again"
            ) from None

    def _write(self, connectors: Connectors, allowed: Hosts) -> None:
        document = {"format": FORMAT_VERSION, "connectors": connectors}
        if allowed:
            document["allowed_hosts"] = allowed
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)

        fernet = encryption.key_from_environment()
        if fernet is not None:
            token = encryption.encrypt(fernet, text)
            text = json.dumps({"format": FORMAT_VERSION, "encrypted": token})
        self._replace_file(text + "\n")

    def _replace_file(self, text: str) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=self.path.parent, prefix=".credentials-", suffix=".tmp"
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise
        _fsync_directory(self.path.parent)

    def _check_permissions(self) -> None:
        mode = self.path.stat().st_mode
        # Checked first, because a directory's usual mode would otherwise be
        # reported as readable by other users.
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
            raise CredentialStoreError(
                f"credential store {self.path} is {kind}; the hub keeps its "
                "credentials in a file of that name, so move it away, or set "
                "SECODA_HUB_HOME to another directory"
            )
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise CredentialStoreError(
                f"credential store {self.path} is readable by other users "
                f"(mode {stat.filemode(mode)}); run `chmod 600 {self.path}`"
            )


def _remove_profile(tree: dict, connector: str, profile: str | None) -> bool:
    if connector not in tree:
        return False
    if profile is None:
        del tree[connector]
        return True
    if tree[connector].pop(profile, None) is None:
        return False
    if not tree[connector]:
        del tree[connector]
    return True


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
