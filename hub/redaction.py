"""Removing secret values from text before anyone sees it."""

import json
import logging
from collections.abc import Iterable

REPLACEMENT = "[redacted]"

# Shorter values would blank out ordinary words in unrelated text.
MIN_SECRET_LENGTH = 3


class Redactor:
    """Replaces each known secret, and its JSON-escaped form, in text."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._needles: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            return
        escaped = json.dumps(secret)[1:-1]
        ascii_escaped = json.dumps(secret, ensure_ascii=True)[1:-1]
        for needle in {secret, escaped, ascii_escaped, repr(secret)[1:-1]}:
            if needle not in self._needles:
                self._needles.append(needle)
        # Longest first, so a secret that contains another is removed whole.
        self._needles.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for needle in self._needles:
            if needle in text:
                text = text.replace(needle, REPLACEMENT)
        return text

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
