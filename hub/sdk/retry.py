"""When the HTTP runtime retries a request, and how long it waits first."""

import email.utils
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# Statuses that mean "try again later": 429 is rate limiting, and 502, 503 and
# 504 are an unavailable or overloaded upstream. Other statuses are returned
# at once.
RETRY_STATUSES = frozenset({429, 502, 503, 504})

# Methods that RFC 9110 (section 9.2.2) defines as idempotent. Sending one of
# them twice has the effect of sending it once, so a retry after a response or
# a read timeout is safe. POST and PATCH are not in the set.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

# Transport errors raised before any byte of the request reached the server,
# so that retrying them is safe for every method.
UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)

# Transport errors raised after the request may have reached the server.
# Only idempotent methods retry them.
SENT_ERRORS = (
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.WriteTimeout,
    httpx.WriteError,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Limits and delays of the retry loop, in attempts and seconds.

    ``max_attempts`` counts the first request, so 5 means at most 4 retries.
    The wait before retry ``n`` (1-based) is ``backoff_base * 2 ** (n - 1)``,
    capped at ``backoff_max``, then reduced by a random share of up to
    ``jitter`` so that many clients do not retry in step. A ``Retry-After``
    header replaces that wait and is capped at ``retry_after_max``.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    jitter: float = 0.5
    retry_after_max: float = 60.0

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError(
                f"max_attempts={self.max_attempts} is invalid; it counts the "
                "first request, so use 1 to turn retries off"
            )
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter={self.jitter} is invalid; use 0.0 to 1.0")

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """Return the wait in seconds before retry number ``retry`` (1-based)."""
        delay = min(self.backoff_max, self.backoff_base * 2 ** (retry - 1))
        return delay * (1.0 - self.jitter * rng())

    def wait_after(
        self, response: httpx.Response, retry: int, now: Callable[[], float]
    ) -> float:
        """Return the wait before retrying ``response``, honouring Retry-After."""
        requested = parse_retry_after(response.headers.get("Retry-After"), now())
        if requested is None:
            return self.backoff(retry)
        return min(requested, self.retry_after_max)


def parse_retry_after(value: str | None, current_time: float) -> float | None:
    """Return the seconds a ``Retry-After`` value requests, or None if invalid.

    The header carries either whole seconds or an HTTP-date (RFC 9110,
    section 10.2.3). A date in the past means "retry now" and gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)

    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    # parsedate_to_datetime returns a naive datetime for "-0000" zones.
    if moment.tzinfo is None:
        return None
    return max(0.0, moment.timestamp() - current_time)


def may_retry_status(method: str, status_code: int) -> bool:
    return status_code in RETRY_STATUSES and method.upper() in IDEMPOTENT_METHODS


def may_retry_error(method: str, error: httpx.TransportError) -> bool:
    # A certificate that failed verification fails the same way next time.
    if is_certificate_error(error):
        return False
    if isinstance(error, UNSENT_ERRORS):
        return True
    return isinstance(error, SENT_ERRORS) and method.upper() in IDEMPOTENT_METHODS


def is_certificate_error(error: BaseException) -> bool:
    """Return whether ``error`` comes from a TLS certificate that failed verification.

    httpx chains its own error to httpcore's, which chains the ``ssl`` error.
    """
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
