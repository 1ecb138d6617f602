"""Removing secret values from text before anyone sees it."""

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus

REPLACEMENT = "[redacted]"

# Shorter values would blank out ordinary words in unrelated text.
MIN_SECRET_LENGTH = 3

_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def secret_forms(secret: str) -> set[str]:
    """Return the forms in which ``secret`` can appear in logged text.

    These are the raw text, its JSON-escaped forms (``ensure_ascii`` on and
    off, and with ``/`` escaped as ``\\/`` as some encoders write it) and
    its Python ``repr`` body. Then come its URL-encoded forms, each also with
    lower-case hex digits: ``quote`` with ``safe=""`` and with the default
    ``safe="/"``, ``quote_plus``, and the text httpx writes for it in a URL
    (see :func:`_httpx_url_forms`).
    """
    forms = {secret, repr(secret)[1:-1]}
    for ensure_ascii in (False, True):
        escaped = json.dumps(secret, ensure_ascii=ensure_ascii)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    try:
        encoded_forms = {quote(secret, safe=""), quote(secret), quote_plus(secret)}
    except UnicodeEncodeError:
        # A lone surrogate, as from undecodable command-line bytes, has no
        # UTF-8 form, so it cannot appear URL-encoded either.
        return forms
    encoded_forms |= _httpx_url_forms(secret)
    for encoded in encoded_forms:
        forms.add(encoded)
        forms.add(_PERCENT_ESCAPE.sub(lambda match: match.group().lower(), encoded))
    return forms


def _httpx_url_forms(secret: str) -> set[str]:
    """Return the text httpx writes for ``secret`` inside a URL.

    httpx percent-encodes each part of a URL with its own safe set, and
    leaves characters such as ``@ + = & ! $ ' ( ) * , ; :`` literal in a
    path, so its forms differ from ``quote``'s. Rather than copy those
    sets, this function builds URLs with httpx, with the secret as a path
    segment, as a query value (written into the URL text and passed as
    ``params``) and as user name and password. It cuts the encoded secret
    out of each result. NOTE: a position where httpx rejects the secret (a
    control character in URL text) or rewrites it (a ``..`` path segment,
    or ``/``, ``?`` or ``#`` in user info written into URL text) adds no
    form.
    """
    import httpx

    host = "redaction.invalid"
    path = f"http://{host}/s"
    # Each probe builds a URL holding the secret once; the encoded secret is
    # the text of that URL between ``start`` and ``end``.
    probes = [
        (lambda: httpx.URL(f"{path}/{secret}/e"), f"{path}/", "/e"),
        (lambda: httpx.URL(f"{path}?v={secret}&e=1"), f"{path}?v=", "&e=1"),
        (lambda: httpx.URL(path, params={"v": secret}), f"{path}?v=", ""),
        (lambda: httpx.URL(f"http://u:{secret}@{host}/"), "http://u:", f"@{host}/"),
        (lambda: httpx.URL(f"http://{host}/", username=secret), "http://", f"@{host}/"),
        (
            lambda: httpx.URL(f"http://{host}/", username="u", password=secret),
            "http://u:",
            f"@{host}/",
        ),
    ]
    forms = set()
    for build, start, end in probes:
        with contextlib.suppress(httpx.InvalidURL):
            forms.add(_text_between(str(build()), start, end))
    # Percent-encoding only lengthens text, so a shorter result is a URL that
    # httpx rewrote, and no form of the secret.
    return {form for form in forms if form and len(form) >= len(secret)}


def _text_between(text: str, start: str, end: str) -> str:
    if not (text.startswith(start) and text.endswith(end)):
        return ""
    return text[len(start) : len(text) - len(end)]


class Redactor:
    """Replaces each known secret, in every form of :func:`secret_forms`, in text."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            return
        for needle in sorted(secret_forms(secret)):
            if needle not in self._needles:
                self._needles.append(needle)
        # Longest first, so a secret that contains another is removed whole.
        self._needles.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, REPLACEMENT)
        return text

    def unfinished_secret(self, text: str) -> int:
        """Return the length of the longest end of ``text`` that begins a secret.

        A stream that redacts text piece by piece holds those characters back
        until the next piece shows whether the rest of the secret follows.
        """
        longest = 0
        for needle in self._needles:
            # An unfinished copy starts within the last len(needle) - 1
            # characters, and only one that starts before ``limit`` is longer
            # than the longest found. The earliest start gives the longest.
            limit = len(text) - longest
            start = text.find(needle[0], max(len(text) - len(needle) + 1, 0), limit)
            while start != -1:
                if needle.startswith(text[start:]):
                    longest = len(text) - start
                    break
                start = text.find(needle[0], start + 1, limit)
        return longest

    def __bool__(self) -> bool:
        return bool(self._needles)


class RedactingFormatter(logging.Formatter):
    """A log formatter that redacts the whole formatted record.

    Redacting the formatted text, rather than the message alone, also covers
    tracebacks and exception messages attached to the record.
    """

    def __init__(self, redactor: Redactor, fmt: str | None = None):
        super().__init__(fmt)
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


class RedactingFilter(logging.Filter):
    """A handler filter that redacts each record before any formatter runs.

    Attached to handlers the hub did not create (the root logger's, the
    last-resort handler, pytest's), it covers the message, its arguments,
    the traceback and the stack of every record those handlers emit.
    """

    def __init__(self, redactor: Redactor):
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.redactor:
            return True
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor(record.stack_info)
        return True


_active = Redactor()


def active_redactor() -> Redactor:
    """Return the redactor of the command running in this process.

    Code that builds text outside a log record, such as a model's ``repr``,
    passes it through this redactor.
    """
    return _active


@contextlib.contextmanager
def redacting_logs(redactor: Redactor) -> Iterator[Redactor]:
    """Redact every log record and warning while the block runs.

    Makes ``redactor`` the active one, adds a :class:`RedactingFilter` to each
    handler of the root logger and to ``logging.lastResort``, and routes
    warnings through logging so they pass the same filter. Handlers added
    inside the block get no filter, so configure logging first.
    """
    global _active
    previous = _active
    _active = redactor

    log_filter = RedactingFilter(redactor)
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    handlers = [handler for handler in handlers if handler is not None]
    for handler in handlers:
        handler.addFilter(log_filter)
    # NOTE: leaving the block turns warning capture off even when a caller
    # had turned it on, because logging offers no way to read its state.
    logging.captureWarnings(True)
    try:
        yield redactor
    finally:
        logging.captureWarnings(False)
        for handler in handlers:
            handler.removeFilter(log_filter)
        _active = previous
