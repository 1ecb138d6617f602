"""The hub's network strategy: one pooled ``httpx.Client`` per run."""

import logging
import time
from dataclasses import dataclass
from typing import Any, Optional

import httpx

from hub.sdk.strategies import NetworkCallStrategy

logger = logging.getLogger(__name__)

# Seconds to wait for a connection and for each read; a run that needs longer
# reads on one call passes its own timeout to the client it builds.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)


@dataclass
class HttpStats:
    """Counters of one run's HTTP traffic."""

    requests: int = 0
    bytes_received: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "bytes_received": self.bytes_received,
            "seconds": round(self.seconds, 3),
        }


class PooledNetworkStrategy(NetworkCallStrategy):
    """Sends every request of a run through one keep-alive connection pool.

    ``httpx`` fixes certificate verification per client, so a request that
    asks for other ``verify`` settings gets a second pooled client, built once.
    """

    def __init__(self, *, timeout: httpx.Timeout = DEFAULT_TIMEOUT):
        self.timeout = timeout
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
    ) -> httpx.Response:
        client = self._client_for(verify)
        started = time.perf_counter()
        response = client.request(
            method,
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            auth=auth,
        )
        elapsed = time.perf_counter() - started
        self._record(response, elapsed)
        return response

    def finalize(self):
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def _client_for(self, verify: bool | str) -> httpx.Client:
        client = self._clients.get(verify)
        if client is None:
            client = httpx.Client(verify=verify, timeout=self.timeout)
            self._clients[verify] = client
        return client

    def _record(self, response: httpx.Response, elapsed: float) -> None:
        self.stats.requests += 1
        self.stats.bytes_received += len(response.content)
        self.stats.seconds += elapsed

        # The query string is left out because it can carry a token.
        request = response.request
        logger.debug(
            "%s %s://%s%s -> %d in %.1f ms",
            request.method,
            request.url.scheme,
            request.url.netloc.decode("ascii", "replace"),
            request.url.path,
            response.status_code,
            elapsed * 1000,
        )
