"""Keeping a connector's ``print`` output off the hub's stdout and free of secrets.

While a connector runs, ``sys.stdout`` and ``sys.stderr`` are replaced by one
stream that redacts what is written and passes it to the real standard
error, so standard output carries only the hub's own summary (``hub run
--json`` stays parseable) and a connector that prints its token shows
``[redacted]``.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import TextIO

from hub.redaction import Redactor


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each write before passing it to ``target``.

    A secret can arrive in pieces, because ``print`` writes each argument on
    its own and a secret may contain a newline. So the end of a write that
    could start a secret is held back until the next write completes it or
    rules it out. :meth:`close_out` writes what is still held.
    """

    def __init__(self, target: TextIO, redactor: Redactor):
        super().__init__()
        self.target = target
        self.redactor = redactor
        self._held = ""

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", None) or "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        pending = self.redactor(self._held + text)
        cut = len(pending) - self.redactor.unfinished_secret(pending)
        if cut:
            self.target.write(pending[:cut])
        self._held = pending[cut:]
        return len(text)

    def flush(self) -> None:
        # What is held stays held, because flushing it could show half a secret.
        self.target.flush()

    def close_out(self) -> None:
        """Write what is held back, once the writer is done."""
        if self._held:
            self.target.write(self._held)
            self._held = ""
        self.target.flush()


@contextlib.contextmanager
def connector_output_to_stderr(redactor: Redactor) -> Iterator[None]:
    """Send the block's ``sys.stdout`` and ``sys.stderr`` writes, redacted, to stderr.

    Only Python-level writes are caught. NOTE: a connector that writes to
    file descriptor 1 or 2 directly, or starts a child process that inherits
    them, bypasses both the redirection and the redaction.
    """
    stream = RedactingStream(sys.stderr, redactor)
    try:
        with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            yield
    finally:
        stream.close_out()
