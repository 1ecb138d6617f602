"""Turning the hub's errors, and invalid option values, into command-line errors."""

import contextlib
import functools
from collections.abc import Iterator

import click

from hub.errors import INTERRUPTED_EXIT_CODE, HubError


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


def exits_130_on_interrupt(message: str):
    """Exit with 130 and ``message``, not click's "Aborted!" and 1, on Ctrl-C."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            try:
                return command(*args, **kwargs)
            except KeyboardInterrupt:
                raise CommandError(message, INTERRUPTED_EXIT_CODE) from None

        return wrapper

    return decorate


def check_profile_option(context, parameter, value: str | None) -> str | None:
    """Reject a ``--profile`` that is not a plain name, as a usage error.

    The name appears in suggested commands and variable names, and one of
    another shape (empty, or with spaces or ``;``) would break them.
    """
    from hub.credentials.values import PLAIN_NAME_RULE, is_plain_name

    if value is not None and not is_plain_name(value):
        raise click.BadParameter(
            f"a profile name is {PLAIN_NAME_RULE}, such as eu or staging"
        )
    return value
