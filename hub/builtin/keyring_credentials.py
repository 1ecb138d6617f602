"""The credential backend in the system keyring, through ``keyring``."""

from pathlib import Path

from hub.hookspecs import hookimpl

NAME = "keyring"


@hookimpl
def hub_list_credential_backends():
    return [NAME]


@hookimpl
def hub_open_credential_backend(name: str, config_dir: Path):
    if name != NAME:
        return None

    from hub.credentials.keyring_store import (
        LOCK_FILE,
        KeyringStore,
        open_system_keyring,
    )

    return KeyringStore(open_system_keyring(), config_dir / LOCK_FILE)
