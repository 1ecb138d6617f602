"""A credential backend in the system keyring, through the ``keyring`` package.

Each profile is one keyring item: service ``secoda-hub``, user name
``<connector>/<profile>``, and the profile's values as a JSON object, so
values with newlines or quotes survive. Keyrings cannot list their items, so
one more item, user name ``index``, records which profiles exist and their
allowed hosts as JSON. It contains no secret. A file lock in the hub's
configuration directory serialises every read-modify-write of the index.

``keyring`` is imported only when this backend is opened, so ``hub --help``
and ``hub list`` never load it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hub.credentials.backend import CredentialBackend, Values
from hub.credentials.document import KEYRING_INDEX, KEYRING_ITEM, validate_document
from hub.credentials.hosts import merge_hosts
from hub.credentials.values import ENV_PREFIX
from hub.errors import CredentialStoreError

SERVICE = "secoda-hub"
INDEX_USER = "index"
INSTALL_HINT = "pip install 'secoda-hub[keyring]'"
LOCK_FILE = "keyring.lock"


class KeyringStore(CredentialBackend):
    """Profiles kept as JSON items in a ``keyring`` backend."""

    name = "keyring"

    def __init__(self, backend, lock_path: Path, service: str = SERVICE):
        self.backend = backend
        self.lock_path = lock_path
        self.service = service

    @property
    def location(self) -> str:
        return f"keyring service {self.service!r} ({type(self.backend).__name__})"

    def get(self, connector: str, profile: str) -> Values:
        return self._read_item(_user(connector, profile))

    def all(self) -> dict[str, dict[str, Values]]:
        return {
            connector: {profile: self.get(connector, profile) for profile in profiles}
            for connector, profiles in self._read_index().items()
        }

    def allowed_hosts(self, connector: str, profile: str) -> list[str]:
        entry = self._read_index().get(connector, {}).get(profile, {})
        return list(entry.get("allowed_hosts", []))

    def set(
        self,
        connector: str,
        profile: str,
        values: Mapping[str, str],
        hosts: Iterable[str] = (),
    ) -> None:
        with self._locked():
            user = _user(connector, profile)
            # Both items are read before either is written, so a misshapen
            # index leaves the profile's item unchanged.
            index = self._read_index()
            merged = {**self._read_item(user), **values}
            self._call(self.backend.set_password, self.service, user, _dump(merged))

            entry = index.setdefault(connector, {}).setdefault(profile, {})
            entry["allowed_hosts"] = merge_hosts(
                entry.get("allowed_hosts", []), list(hosts)
            )
            self._write_index(index)

    def remove(self, connector: str, profile: str | None = None) -> bool:
        with self._locked():
            index = self._read_index()
            profiles = index.get(connector, {})
            chosen = list(profiles) if profile is None else [profile]
            if not chosen or any(name not in profiles for name in chosen):
                return False
            for name in chosen:
                self._delete_item(_user(connector, name))
                del profiles[name]
            if not profiles:
                del index[connector]
            self._write_index(index)
        return True

    def _read_item(self, user: str) -> Values:
        text = self._call(self.backend.get_password, self.service, user)
        if text is None:
            return {}
        return _load(text, KEYRING_ITEM, f"keyring item {self.service}/{user}")

    def _read_index(self) -> dict[str, dict[str, dict]]:
        text = self._call(self.backend.get_password, self.service, INDEX_USER)
        if text is None:
            return {}
        index = _load(text, KEYRING_INDEX, self._index_name)
        # Plain dicts, because set() and remove() edit the index in place.
        return {
            connector: {
                profile: entry.model_dump() for profile, entry in profiles.items()
            }
            for connector, profiles in index.items()
        }

    def _write_index(self, index: dict) -> None:
        text = _dump(index)
        self._call(self.backend.set_password, self.service, INDEX_USER, text)

    def _delete_item(self, user: str) -> None:
        from keyring.errors import PasswordDeleteError

        # An item already gone (deleted outside the hub) is what remove wants.
        with contextlib.suppress(PasswordDeleteError):
            self._call(self.backend.delete_password, self.service, user)

    @property
    def _index_name(self) -> str:
        return f"keyring item {self.service}/{INDEX_USER}"

    def _call(self, method, *args):
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            return method(*args)
        except PasswordDeleteError:
            raise
        except KeyringError as error:
            raise CredentialStoreError(
                f"the system keyring ({type(self.backend).__name__}) failed: "
                f"{type(error).__name__}: {error}; unlock the keyring and "
                "retry, or use --backend file"
            ) from error

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)


def open_system_keyring():
    """Return the active ``keyring`` backend, or raise when none is usable.

    Nothing falls back to a plain-text file here: without a usable keyring
    the command stops and names the alternatives.
    """
    try:
        import keyring
    except ImportError:
        raise CredentialStoreError(
            "the keyring credential backend needs the keyring package; "
            f"install it with `{INSTALL_HINT}`, or use --backend file"
        ) from None

    backend = keyring.get_keyring()
    if not is_usable(backend):
        raise CredentialStoreError(
            f"no usable system keyring was found (keyring selected "
            f"{type(backend).__module__}.{type(backend).__name__}), as on a "
            "machine without a desktop session. Use the file backend "
            "(--backend file, or unset SECODA_HUB_CREDENTIAL_BACKEND), supply "
            f"the values in {ENV_PREFIX}<CONNECTOR>__<PROFILE>__<FIELD> "
            "variables, or install and start a keyring backend (for example "
            "a Secret Service such as gnome-keyring) and retry"
        )
    return backend


def is_usable(backend) -> bool:
    """Tell whether ``backend`` can store values at all."""
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


def _user(connector: str, profile: str) -> str:
    return f"{connector}/{profile}"


def _dump(data: dict) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


def _load(text: str, shape, what: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CredentialStoreError(
            f"{what} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg}); delete it with your keyring tool "
            "and store the values again"
        ) from None
    fix = "Delete it with your keyring tool and store the values again"
    return validate_document(shape, data, what, fix)
