"""Turning the hub's errors, and invalid option values, into command-line errors."""

import contextlib
import functools
import sys
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


# The message of a command interrupted where no more specific one applies.
INTERRUPTED = "interrupted by SIGINT (Ctrl-C)"


def is_interrupt(error: BaseException) -> bool:
    """Tell whether ``error`` comes from SIGINT, as Ctrl-C sends it.

    At a prompt, click turns the KeyboardInterrupt into :class:`click.Abort`
    and keeps the interrupt as the Abort's ``__context__`` (checked with
    click 8.5). An Abort for end of input at a prompt is not an interrupt.
    """
    if isinstance(error, KeyboardInterrupt):
        return True
    return isinstance(error, click.Abort) and isinstance(
        error.__context__, KeyboardInterrupt
    )


@contextlib.contextmanager
def interrupt_exits_130(message: str) -> Iterator[None]:
    """Exit with 130 and ``message``, not click's "Aborted!" and 1, on Ctrl-C."""
    try:
        yield
    except (KeyboardInterrupt, click.Abort) as error:
        if not is_interrupt(error):
            raise
        if sys.stderr.isatty():
            # A terminal echoes ^C without a newline, so the message would
            # start on that line.
            click.echo(err=True)
        raise CommandError(message, INTERRUPTED_EXIT_CODE) from None


def exits_130_on_interrupt(message: str):
    """Decorate a command so that Ctrl-C ends it with 130 and ``message``."""

    def decorate(command):
        @functools.wraps(command)
        def wrapper(*args, **kwargs):
            with interrupt_exits_130(message):
                return command(*args, **kwargs)

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
