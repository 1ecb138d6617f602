"""Where the hub keeps its files."""

import os
from pathlib import Path

from hub.errors import ConfigurationError

HOME_ENV = "SECODA_HUB_HOME"
CATALOG_ENV = "SECODA_HUB_CATALOG"
APP_NAME = "secoda-hub"


def config_dir() -> Path:
    """Return the directory of the credential store and other settings.

    ``SECODA_HUB_HOME`` moves every hub file under one directory, which tests
    and the demo use to leave the user's own store untouched.
    """
    home = hub_home()
    if home is not None:
        return home / "config"

    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """Return the directory of the default catalog."""
    home = hub_home()
    if home is not None:
        return home / "data"

    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def default_catalog_location() -> str:
    """Return the catalog named by ``SECODA_HUB_CATALOG``, else the default file."""
    return os.environ.get(CATALOG_ENV) or str(data_dir() / "catalog.sqlite")


def hub_home() -> Path | None:
    """Return the directory that ``SECODA_HUB_HOME`` names, or None when unset.

    Raises :class:`ConfigurationError` when that path, or the nearest of its
    parents that exists, is not a directory, because no hub file can be
    created below it.
    """
    home = os.environ.get(HOME_ENV)
    if not home:
        return None
    path = Path(home)
    existing = next((each for each in (path, *path.parents) if each.exists()), None)
    if existing is not None and not existing.is_dir():
        raise ConfigurationError(
            f"{HOME_ENV} is set to {home!r}, but {str(existing)!r} is a file, "
            f"not a directory; set {HOME_ENV} to a directory (the hub creates "
            "it when missing), or unset it"
        )
    return path
