"""Error text from connectors, made safe to store in the catalog and print.

A connector controls its exceptions completely: their messages can be
megabytes long, carry terminal control sequences, or fail to convert to a
string at all. These helpers turn any of them into bounded, printable text.
"""

from __future__ import annotations

import re

# Characters kept of a stored or printed error message. Roughly fifty lines
# of a terminal: enough for any message written for a person, while a
# message built from a whole response body stays out of the run table.
MAX_MESSAGE_CHARS = 4000

# C0 controls other than tab and newline, DEL, and the C1 controls.
# Characters reserved for the marker that says how much was cut, enough for
# counts of up to 20 digits.
_MARKER_ROOM = 56

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n]+")


def describe_exception(error: BaseException) -> str:
    """Return ``"TypeName: message"``, or the type name when the message is empty.

    An exception whose ``__str__`` raises, or returns something other than
    a string, is described by its ``repr()``, and by its type name alone
    when that fails too. Only a ``BaseException`` that is not an
    ``Exception``, such as ``KeyboardInterrupt``, raised while formatting,
    escapes.
    """
    name = type(error).__name__
    try:
        text = str(error)
    except Exception:
        return f"{name}: {_safe_repr(error)} (str() of the exception failed)"
    return f"{name}: {text}" if text else name


def _safe_repr(error: BaseException) -> str:
    try:
        return repr(error)
    except Exception:
        return "<repr() failed too>"


def escape_controls(text: str) -> str:
    """Replace control characters other than tab and newline with escapes.

    A carriage return becomes ``\\r`` and an escape character ``\\x1b``, so
    a message can neither overwrite a terminal line nor start an escape
    sequence.
    """
    return _CONTROL.sub(_escape, text)


def _escape(match: re.Match) -> str:
    return repr(match.group())[1:-1]


def one_line(text: str) -> str:
    """Return ``text`` escaped as :func:`escape_controls` does, on one line.

    Runs of tabs and newlines become one space, for a table cell.
    """
    return _LINE_BREAKS.sub(" ", escape_controls(text))


def cap(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Return ``text`` cut to at most ``limit`` characters, saying how many went.

    The result is never longer than ``limit``, so capping it again changes
    nothing.
    """
    if len(text) <= limit:
        return text
    kept = limit - _MARKER_ROOM
    return f"{text[:kept]}... [{len(text) - kept:,} more characters cut]"


def safe_message(text: str) -> str:
    """Return an error message escaped and capped for storing and printing."""
    return cap(escape_controls(text))
