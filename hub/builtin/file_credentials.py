"""The default credential backend: one protected JSON file."""

from pathlib import Path

from hub.hookspecs import hookimpl

NAME = "file"


@hookimpl
def hub_list_credential_backends():
    return [NAME]


@hookimpl
def hub_open_credential_backend(name: str, config_dir: Path):
    if name != NAME:
        return None

    from hub.credentials import STORE_FILE, CredentialStore

    return CredentialStore(config_dir / STORE_FILE)
