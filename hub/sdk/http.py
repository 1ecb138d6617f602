"""The hub's network strategy: one pooled ``httpx.Client`` per run.

Every request passes the egress allowlist before a connection is opened, and
the addresses a host name resolves to pass it again when the connection opens
(:mod:`hub.sdk.transport`). Requests are retried on transient failures as
:class:`~hub.sdk.retry.RetryPolicy` allows, and follow redirects only when the
connector requests it, stripping credentials on a hop to another origin.
``docs/http-runtime.md`` describes the behaviour.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Optional
from urllib.parse import unquote_plus

import httpx

from hub.errors import FatalHTTPError, RetriableHTTPError
from hub.redaction import MIN_SECRET_LENGTH, REPLACEMENT, secret_forms
from hub.sdk.egress import EgressPolicy
from hub.sdk.retry import (
    SENT_ERRORS,
    UNSENT_ERRORS,
    RetryPolicy,
    is_certificate_error,
    may_retry_error,
    may_retry_status,
)
from hub.sdk.strategies import NetworkCallStrategy
from hub.sdk.transport import (
    GuardedTransport,
    Resolver,
    resolve_addresses,
    ssl_context_for,
)

logger = logging.getLogger(__name__)

# Seconds to wait for a connection, for each read and each write, and for a
# free connection in the pool. A call that needs longer reads passes its own
# ``timeout=``.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)

# Hops followed for one call before the redirect chain counts as a loop.
MAX_REDIRECTS = 10

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Headers a connector set that stay on a redirect to another origin, because
# they describe the request and cannot carry a credential.
CROSS_ORIGIN_SAFE_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "content-type", "user-agent"}
)

# Substrings of query parameter names whose values the debug log masks.
SECRET_PARAMETER_WORDS = (
    "token",
    "key",
    "pass",
    "pwd",
    "secret",
    "signature",
    "sig",
    "auth",
    "session",
    "credential",
    "jwt",
    "cookie",
)


@dataclass
class HttpStats:
    """Counters of one run's HTTP traffic, where each retry and hop is a request."""

    requests: int = 0
    retries: int = 0
    bytes_received: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "retries": self.retries,
            "bytes_received": self.bytes_received,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class _Call:
    """The arguments of one ``make_request`` call, kept to build each redirect hop."""

    method: str
    url: str | httpx.URL
    params: Optional[dict]
    headers: dict[str, str]
    data: Optional[dict]
    json: Any
    auth: Optional[httpx.BasicAuth]
    timeout: Any


class PooledNetworkStrategy(NetworkCallStrategy):
    """Sends every request of a run through one keep-alive connection pool.

    ``allowed_hosts`` None turns the allowlist off and an empty collection
    rejects every host. ``secrets`` are the run's credential values: they are
    masked in the debug log and a header carrying one is dropped on a
    cross-origin redirect. ``sleep``, ``now`` and ``resolve`` (the DNS
    lookup) are injectable for tests. A ``transport`` given here replaces the
    guarded one, and with it the check of resolved addresses.

    ``httpx`` fixes certificate verification per client, so a request with
    other ``verify`` settings gets a second pooled client, built once.
    """

    def __init__(
        self,
        *,
        allowed_hosts: Collection[str] | None,
        secrets: Collection[str] = (),
        allow_hint: Callable[[str], str] | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, so shared safely
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
        max_redirects: int = MAX_REDIRECTS,
        resolve: Resolver = resolve_addresses,
    ):
        self.egress = EgressPolicy(allowed_hosts, allow_hint)
        self.secrets = tuple(
            secret
            for secret in secrets
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH
        )
        self.timeout = timeout
        self.retry = retry
        self.sleep = sleep
        self.now = now
        self.transport = transport
        self.resolve = resolve
        self.max_redirects = max_redirects
        self.stats = HttpStats()
        self._clients: dict[bool | str, httpx.Client] = {}

    def make_request(
        self,
        method: str,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        verify: bool | str = True,
        follow_redirects: bool = False,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        call = _Call(
            method=method.upper(),
            # Left as given so that build_request parses each URL only once.
            url=url,
            params=params,
            headers=dict(headers or {}),
            data=data,
            json=json,
            auth=auth,
            timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,
        )
        client = self._client_for(verify)
        if not follow_redirects:
            return self._send(client, call)
        return self._follow_redirects(client, call)

    def finalize(self):
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _client_for(self, verify: bool | str) -> httpx.Client:
        client = self._clients.get(verify)
        if client is None:
            ssl_context = ssl_context_for(verify)
            transport = self.transport or GuardedTransport(
                self.egress, ssl_context=ssl_context, resolve=self.resolve
            )
            client = httpx.Client(
                verify=ssl_context,
                timeout=self.timeout,
                transport=transport,
                follow_redirects=False,
                cookies=_cookie_jar_that_stores_nothing(),
            )
            self._clients[verify] = client
        return client

    def _send(self, client: httpx.Client, call: _Call) -> httpx.Response:
        """Send one hop, retrying transient failures as the policy allows."""
        request = client.build_request(
            call.method,
            call.url,
            params=call.params,
            headers=call.headers,
            data=call.data,
            json=call.json,
            timeout=call.timeout,
        )
        self.egress.check(request.url)

        attempt = 1
        while True:
            try:
                response = self._send_once(client, request, call.auth)
            except httpx.TransportError as error:
                if attempt >= self.retry.max_attempts or not may_retry_error(
                    call.method, error
                ):
                    raise self._transport_failure(request, error, attempt) from error
                wait = self.retry.backoff(attempt)
                reason = type(error).__name__
            else:
                if not may_retry_status(call.method, response.status_code):
                    return response
                if attempt >= self.retry.max_attempts:
                    self._log_exhausted(request, response, attempt)
                    return response
                wait = self.retry.wait_after(response, attempt, self.now)
                reason = f"HTTP {response.status_code}"
                response.close()

            self._log_retry(request, attempt, wait, reason)
            self.stats.retries += 1
            self.sleep(wait)
            attempt += 1

    def _send_once(
        self, client: httpx.Client, request: httpx.Request, auth
    ) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = client.send(request, auth=auth, follow_redirects=False)
        except httpx.TransportError as error:
            elapsed = time.perf_counter() - started
            self.stats.requests += 1
            self.stats.seconds += elapsed
            self._log_request(request, type(error).__name__, elapsed)
            raise
        elapsed = time.perf_counter() - started
        self.stats.requests += 1
        self.stats.bytes_received += len(response.content)
        self.stats.seconds += elapsed
        self._log_request(request, response.status_code, elapsed)
        return response

    def _follow_redirects(self, client: httpx.Client, call: _Call) -> httpx.Response:
        for hop in range(self.max_redirects + 1):
            response = self._send(client, call)
            location = response.headers.get("Location")
            if response.status_code not in REDIRECT_STATUSES or location is None:
                return response
            if hop == self.max_redirects:
                break
            call = self._redirect_call(call, response.request.url, response)
            response.close()

        raise FatalHTTPError(
            f"{call.method} {self.mask_url(httpx.URL(call.url))} redirected more than "
            f"{self.max_redirects} times; check the URL for a redirect loop"
        )

    def _redirect_call(
        self, call: _Call, current: httpx.URL, response: httpx.Response
    ) -> _Call:
        """Build the next hop of a redirect, dropping what must not cross."""
        target = current.join(response.headers["Location"])
        method = redirect_method(call.method, response.status_code)
        keeps_body = method == call.method
        next_call = replace(
            call,
            method=method,
            url=target,
            # The Location URL is complete, so the first hop's query must not
            # be appended again.
            params=None,
            data=call.data if keeps_body else None,
            json=call.json if keeps_body else None,
        )
        if same_origin(current, target):
            return next_call
        return replace(
            next_call, headers=self._cross_origin_headers(call.headers), auth=None
        )

    def _cross_origin_headers(self, headers: dict[str, str]) -> dict[str, str]:
        kept = {}
        for name, value in headers.items():
            if name.lower() not in CROSS_ORIGIN_SAFE_HEADERS:
                continue
            if any(secret in value for secret in self.secrets):
                continue
            kept[name] = value
        return kept

    def _transport_failure(
        self, request: httpx.Request, error: httpx.TransportError, attempts: int
    ) -> Exception:
        target = f"{request.method} {self.mask_url(request.url)}"
        if is_certificate_error(error):
            return FatalHTTPError(
                f"{target} failed: the TLS certificate of {request.url.host!r} "
                f"failed verification ({error}); if the server uses a private "
                "certificate authority, pass its CA bundle as "
                "verify='/path/to/ca.pem'"
            )
        if isinstance(error, UNSENT_ERRORS):
            return RetriableHTTPError(
                f"{target} failed after {attempts} attempt(s): could not connect "
                f"({type(error).__name__}: {error}); check that the host is up"
            )
        if isinstance(error, SENT_ERRORS):
            retried = "" if attempts > 1 else " and was not retried"
            return RetriableHTTPError(
                f"{target} failed after {attempts} attempt(s){retried}: "
                f"{type(error).__name__}: {error}; a {request.method} is only "
                "retried when it cannot have reached the server twice, so "
                "raise the timeout or check the server"
            )
        return FatalHTTPError(f"{target} failed: {type(error).__name__}: {error}")

    def mask_url(self, url: httpx.URL) -> str:
        return mask_url(url, self.secrets)

    def _log_request(self, request: httpx.Request, outcome, elapsed: float) -> None:
        # Masking costs more than the rest of a request's bookkeeping, so it
        # runs only when the line is written.
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %s in %.1f ms",
                request.method,
                self.mask_url(request.url),
                outcome,
                elapsed * 1000,
            )

    def _log_retry(self, request, attempt: int, wait: float, reason: str) -> None:
        logger.info(
            "%s to %s failed with %s; retry %d of %d in %.2f s",
            request.method,
            request.url.host,
            reason,
            attempt,
            self.retry.max_attempts - 1,
            wait,
        )

    def _log_exhausted(self, request, response: httpx.Response, attempts: int):
        logger.warning(
            "%s to %s still returned HTTP %d after %d attempts; returning it",
            request.method,
            request.url.host,
            response.status_code,
            attempts,
        )


def _cookie_jar_that_stores_nothing() -> CookieJar:
    # ``secodadk`` sends each request from a new client, so no cookie carries
    # over from one call to the next. A shared jar would also send a host's
    # cookies to its other ports, which the redirect rules treat as other
    # origins. A connector that needs a cookie sets the header itself.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def redirect_method(method: str, status_code: int) -> str:
    """Return the method of the next hop, as browsers and httpx choose it."""
    if status_code == 303 and method != "HEAD":
        return "GET"
    if status_code in (301, 302) and method == "POST":
        return "GET"
    return method


def same_origin(first: httpx.URL, second: httpx.URL) -> bool:
    # A change of scheme (an https to http downgrade included) is a new origin.
    return (first.scheme, first.host, first.port) == (
        second.scheme,
        second.host,
        second.port,
    )


def mask_url(url: httpx.URL, secrets: Collection[str] = ()) -> str:
    """Render ``url`` for a log line, with user info and secret values masked.

    Each form of ``secrets`` that :func:`secret_forms` lists, including the
    ones httpx writes, is replaced in the path and query as sent. Then a
    query value is masked when, decoded, it contains one of ``secrets`` or
    when its parameter's name contains a word such as token, key or
    password. User info is left out.
    """
    netloc = url.netloc.decode("ascii", "replace")
    # The forms are replaced before the query is split into parameters,
    # because a secret may contain the "?", "&" and "=" that split it.
    target = url.raw_path.decode("ascii", "replace")
    for form in _url_forms(tuple(secrets)):
        target = target.replace(form, REPLACEMENT)

    path, separator, query = target.partition("?")
    text = f"{url.scheme}://{netloc}{path}"
    if not separator:
        return text
    pairs = [_masked_parameter(pair, secrets) for pair in query.split("&")]
    return f"{text}?{'&'.join(pairs)}"


@functools.lru_cache(maxsize=16)
def _url_forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Return every form of ``secrets``, longest first.

    A run masks many URLs with the same secrets, so the forms are built once.
    Longest first replaces a secret that contains another one whole.
    """
    forms = {form for secret in secrets for form in secret_forms(secret)}
    return tuple(sorted(forms, key=len, reverse=True))


def _masked_parameter(pair: str, secrets: Collection[str]) -> str:
    """Mask the value of one encoded ``name=value`` query parameter."""
    name, equals, value = pair.partition("=")
    if not equals:
        return pair
    lowered = unquote_plus(name).lower()
    if any(word in lowered for word in SECRET_PARAMETER_WORDS):
        return f"{name}={REPLACEMENT}"
    decoded = unquote_plus(value)
    if any(secret in decoded for secret in secrets):
        return f"{name}={REPLACEMENT}"
    return pair
