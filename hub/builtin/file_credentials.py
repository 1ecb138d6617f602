"""The default credential store: one protected JSON file."""

from pathlib import Path

from hub.hookspecs import hookimpl


@hookimpl(trylast=True)
def hub_open_credential_store(config_dir: Path):
    from hub.credentials import STORE_FILE, CredentialStore

    return CredentialStore(config_dir / STORE_FILE)
