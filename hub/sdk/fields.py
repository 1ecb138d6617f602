"""Declarations of the credential fields a connector reads."""

from dataclasses import dataclass


@dataclass(frozen=True)
class CredentialField:
    """One value a connector reads from ``self.credentials``.

    The hub prompts for each declared field by its label, hides the input of
    secret ones, never prints a secret value, and fills in ``default`` for an
    optional field the user left unset.
    """

    name: str
    label: str = ""
    help: str = ""
    required: bool = True
    secret: bool = False
    default: str | None = None

    @property
    def prompt(self) -> str:
        return self.label or self.name
