"""Turning the hub's errors into command-line errors with their exit status."""

import contextlib
from collections.abc import Iterator

import click

from hub.errors import HubError


class CommandError(click.ClickException):
    """A click error that keeps the exit status of the hub error behind it."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


@contextlib.contextmanager
def hub_errors(redact=None) -> Iterator[None]:
    """Convert a :class:`HubError` raised in the block into a CLI error."""
    try:
        yield
    except HubError as error:
        message = str(error)
        if redact is not None:
            message = redact(message)
        raise CommandError(message, error.exit_code) from error
