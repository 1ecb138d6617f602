"""The interface every credential backend implements."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import ClassVar

from hub.errors import CredentialStoreError

Values = dict[str, str]


class CredentialBackend(abc.ABC):
    """A place that keeps ``{connector: {profile: {field: value}}}``.

    Beside the values, each profile keeps the hosts the user allows its
    connector to call. Those are settings, not credentials: the runner reads
    them with :meth:`allowed_hosts` and the connector never receives them.
    """

    #: The name users select the backend by, as in ``--backend file``.
    name: ClassVar[str]
    read_only: ClassVar[bool] = False

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """A description of where the values live, for messages."""

    @abc.abstractmethod
    def get(self, connector: str, profile: str) -> Values:
        """Return one profile's stored values, empty when none are stored."""

    @abc.abstractmethod
    def all(self) -> dict[str, dict[str, Values]]:
        """Return every stored profile of every connector."""

    @abc.abstractmethod
    def allowed_hosts(self, connector: str, profile: str) -> list[str]:
        """Return the hosts the user allows for one profile, in the order added."""

    def set(
        self,
        connector: str,
        profile: str,
        values: Mapping[str, str],
        hosts: Iterable[str] = (),
    ) -> None:
        """Merge ``values`` and ``hosts`` into one profile, keeping other fields."""
        self._reject_write()

    def remove(self, connector: str, profile: str | None = None) -> bool:
        """Delete one profile, or every profile when ``profile`` is None.

        Returns False when nothing matched.
        """
        self._reject_write()

    def _reject_write(self):
        raise CredentialStoreError(
            f"the {self.name} credential backend is read-only; store values "
            "with --backend file or --backend keyring"
        )
