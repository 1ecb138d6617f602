"""Optional encryption at rest of the credential file, with a Fernet key."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from hub.errors import CredentialStoreError

KEY_ENV = "SECODA_HUB_CREDENTIALS_KEY"
INSTALL_HINT = (
    "`pip install 'secoda-hub[encryption]'` (in a checkout of the hub: "
    "`pip install '.[encryption]'`)"
)


def key_from_environment(environ: Mapping[str, str] | None = None):
    """Return a ``Fernet`` for the key in ``SECODA_HUB_CREDENTIALS_KEY``, if set."""
    environ = os.environ if environ is None else environ
    key = environ.get(KEY_ENV, "").strip()
    if not key:
        return None

    fernet_class = _fernet_class(
        f"{KEY_ENV} is set but the cryptography package is not installed; "
        f"install it with {INSTALL_HINT}, or unset {KEY_ENV}"
    )
    try:
        return fernet_class(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        # The key is itself a secret, so the message leaves it out.
        raise CredentialStoreError(
            f"{KEY_ENV} is not a Fernet key (32 url-safe base64-encoded "
            "bytes); generate one with `hub credentials generate-key`"
        ) from None


def generate_key() -> str:
    """Return a new random Fernet key as text."""
    fernet_class = _fernet_class(
        "generating a key needs the cryptography package, which is not "
        f"installed; install it with {INSTALL_HINT}"
    )
    return fernet_class.generate_key().decode("ascii")


def encrypt(fernet, text: str) -> str:
    return fernet.encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(fernet, token: str, path: Path) -> str:
    """Decrypt the file's token, naming the file when the key does not fit."""
    from cryptography.fernet import InvalidToken

    if fernet is None:
        raise CredentialStoreError(
            f"credential store {path} is encrypted; set {KEY_ENV} to the key "
            "it was written with"
        )
    try:
        return fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise CredentialStoreError(
            f"credential store {path} cannot be decrypted with the key in "
            f"{KEY_ENV}: the key is wrong or the file was altered. Set the "
            "key the file was written with"
        ) from None


def _fernet_class(missing_message: str):
    """Return the ``Fernet`` class, or raise ``missing_message`` without it."""
    try:
        from cryptography.fernet import Fernet
    except ImportError:
        raise CredentialStoreError(missing_message) from None
    return Fernet
