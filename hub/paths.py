"""Where the hub keeps its files."""

import os
from pathlib import Path

HOME_ENV = "SECODA_HUB_HOME"
CATALOG_ENV = "SECODA_HUB_CATALOG"
APP_NAME = "secoda-hub"


def config_dir() -> Path:
    """Return the directory of the credential store and other settings.

    ``SECODA_HUB_HOME`` moves every hub file under one directory, which tests
    and the demo use to leave the user's own store untouched.
    """
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home) / "config"

    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME))


def data_dir() -> Path:
    """Return the directory of the default catalog."""
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home) / "data"

    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME))


def default_catalog_location() -> str:
    """Return the catalog named by ``SECODA_HUB_CATALOG``, else the default file."""
    return os.environ.get(CATALOG_ENV) or str(data_dir() / "catalog.sqlite")
