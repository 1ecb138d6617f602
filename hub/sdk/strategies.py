"""The two seams between a connector and whatever runs it.

An ingest strategy receives every declared model; a network strategy makes
every HTTP request. The defaults here behave as ``secodadk`` 0.0.6 does when a
connector runs as a plain script: models are printed to stdout as JSON lines
and each request goes through a one-off ``httpx.request`` call. The hub passes
its own strategies when it runs a connector.
"""

import abc
import json
from typing import Any, Optional

import httpx

from hub.sdk.models import DeclaredLineage, Resource

# The timeout ``secodadk`` passes on every request, in seconds.
SCRIPT_MODE_TIMEOUT = 120


class IngestResourcesStrategy(abc.ABC):
    """Receives each model as the connector declares it."""

    @abc.abstractmethod
    def declare_resource(self, resource: Resource): ...

    @abc.abstractmethod
    def declare_lineage(self, lineage: DeclaredLineage): ...

    @abc.abstractmethod
    def finalize(self): ...


class NetworkCallStrategy(abc.ABC):
    """Makes the HTTP requests of a connector's ``http_*`` methods."""

    @abc.abstractmethod
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
    ) -> httpx.Response: ...

    # Not abstract: a strategy with nothing to release need not define it.
    def finalize(self):  # noqa: B027
        pass


class DefaultIngestResourcesStrategy(IngestResourcesStrategy):
    """Prints one JSON object per declared model to stdout."""

    def declare_resource(self, resource: Resource):
        print(json.dumps(resource.model_dump(mode="json")))

    def declare_lineage(self, lineage: DeclaredLineage):
        print(json.dumps(lineage.model_dump(mode="json")))

    def finalize(self):
        pass


class DefaultNetworkCallStrategy(NetworkCallStrategy):
    """Sends each request on a new connection, with no retries."""

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
        # ``timeout`` is the hub's addition; secodadk always uses its default.
        if timeout is None:
            timeout = SCRIPT_MODE_TIMEOUT
        return httpx.request(
            method,
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            timeout=timeout,
            verify=verify,
            auth=auth,
        )
