"""The read-only credential backend over ``SECODA_HUB_CRED__*`` variables."""

from pathlib import Path

from hub.hookspecs import hookimpl

NAME = "env"


@hookimpl
def hub_list_credential_backends():
    return [NAME]


@hookimpl
def hub_open_credential_backend(name: str, config_dir: Path):
    if name != NAME:
        return None

    from hub.credentials import EnvironmentStore

    return EnvironmentStore()
