"""Keeping a connector's ``print`` output off the hub's stdout and free of secrets.

While a connector runs, ``sys.stdout`` and ``sys.stderr`` are replaced by one
stream that redacts what is written and passes it to the real standard
error, so standard output carries only the hub's own summary (``hub run
--json`` stays parseable) and a connector that prints its token shows
``[redacted]``. ``hub run`` and ``hub credentials test`` keep that stream in
place until the process exits, because a connector's threads and ``atexit``
callbacks can print after its ``extract()`` returns.

Only Python-level writes are caught. NOTE: code that writes to file
descriptor 1 or 2 directly (``os.write``, a C extension), writes to
``sys.__stdout__`` or ``sys.__stderr__``, or starts a child process that
inherits those descriptors bypasses both the redirection and the redaction.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import io
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

from hub.redaction import Redactor


class RedactingStream(io.TextIOBase):
    """A text stream that redacts each write before passing it to ``target``.

    A secret can arrive in pieces, because ``print`` writes each argument on
    its own and a secret may contain a newline. So the end of a write that
    could start a secret is held back until the next write of the same
    thread completes it or rules it out. Holding back per thread keeps two
    threads that print at once from splitting each other's secrets.
    :meth:`close_out` writes what is still held. Bytes written to
    :attr:`buffer` are decoded and redacted the same way.
    """

    def __init__(self, target: TextIO, redactor: Redactor):
        super().__init__()
        self.target = target
        self.redactor = redactor
        # Text held back, by the ident of the thread that wrote it.
        self._held: dict[int, str] = {}
        self._hold_back = True
        self._lock = threading.RLock()
        self._buffer = RedactingBuffer(self, self._lock)

    @property
    def encoding(self) -> str:
        return getattr(self.target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return getattr(self.target, "errors", None) or "strict"

    @property
    def line_buffering(self) -> bool:
        return bool(getattr(self.target, "line_buffering", False))

    @property
    def buffer(self) -> RedactingBuffer:
        """The binary side of the stream, for code that writes bytes."""
        return self._buffer

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.target.isatty()

    def fileno(self) -> int:
        # A descriptor would let the caller write past the redaction.
        raise io.UnsupportedOperation(
            "this stream redacts secrets and has no file descriptor; write "
            "text or bytes to it instead"
        )

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        thread = threading.get_ident()
        with self._lock:
            pending = self.redactor(self._held.pop(thread, "") + text)
            held = self.redactor.unfinished_secret(pending) if self._hold_back else 0
            cut = len(pending) - held
            if cut:
                self.target.write(pending[:cut])
            if held:
                self._held[thread] = pending[cut:]
        return len(text)

    def flush(self) -> None:
        # What is held stays held, because flushing it could show half a secret.
        if not getattr(self.target, "closed", False):
            self.target.flush()

    def close_out(self) -> None:
        """Write what is held back, once the writers are done.

        Later writes are still redacted but no longer held back, because
        nothing would write them out. A closed target gets nothing.
        """
        with self._lock:
            self._buffer.close_out()
            self._hold_back = False
            if getattr(self.target, "closed", False):
                return
            for text in self._held.values():
                self.target.write(text)
            self._held.clear()
            self.target.flush()


class RedactingBuffer(io.BufferedIOBase):
    """The ``buffer`` of a :class:`RedactingStream`.

    Bytes are decoded with the stream's encoding, bad bytes replaced, and
    written as text, so they are redacted like text. A character split
    across two writes is decoded once its last byte arrives.
    """

    def __init__(self, stream: RedactingStream, lock: threading.RLock):
        super().__init__()
        self._stream = stream
        self._lock = lock
        decoder_class = codecs.getincrementaldecoder(stream.encoding)
        self._decoder = decoder_class(errors="replace")

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._stream.fileno()

    def write(self, data) -> int:
        data = bytes(memoryview(data))
        with self._lock:
            text = self._decoder.decode(data)
            if text:
                self._stream.write(text)
        return len(data)

    def flush(self) -> None:
        self._stream.flush()

    def close_out(self) -> None:
        """Decode the bytes of an unfinished character, as replacement text."""
        with self._lock:
            text = self._decoder.decode(b"", final=True)
            if text:
                self._stream.write(text)


@contextlib.contextmanager
def connector_output_to_stderr(redactor: Redactor) -> Iterator[None]:
    """Send the block's ``sys.stdout`` and ``sys.stderr`` writes, redacted, to stderr.

    Library callers of :func:`hub.runner.run` get this. The CLI redirects
    for the whole process with :func:`redirect_output_until_exit`, and a
    block inside that redirection changes nothing, so no write is redacted
    twice.
    """
    if _redirected_with(redactor):
        yield
        return
    stream = RedactingStream(sys.stderr, redactor)
    try:
        with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
            yield
    finally:
        stream.close_out()


def _redirected_with(redactor: Redactor) -> bool:
    """Return whether both standard streams already redact with ``redactor``."""
    return all(
        isinstance(stream, RedactingStream) and stream.redactor is redactor
        for stream in (sys.stdout, sys.stderr)
    )


def redirect_output_until_exit(redactor: Redactor) -> TextIO:
    """Send every later ``sys.stdout`` and ``sys.stderr`` write, redacted, to stderr.

    Returns the standard output the process had, where the command writes
    its own results. The streams stay replaced until the process exits,
    which covers a connector's non-daemon threads (joined before ``atexit``
    callbacks run) and its ``atexit`` callbacks (registered later, so run
    before the one registered here that writes out what is held). A caller
    that swaps the streams back, as click's ``CliRunner`` does, ends the
    redirection early.
    """
    real_stdout = sys.stdout
    stream = RedactingStream(sys.stderr, redactor)
    sys.stdout = sys.stderr = stream
    atexit.register(stream.close_out)
    return real_stdout
