"""Instruments for the standard suite: recorded credential reads and requests."""

from __future__ import annotations

from typing import Any

import httpx

from hub.sdk.http import PooledNetworkStrategy
from hub.sdk.strategies import IngestResourcesStrategy


class TrackingCredentials(dict):
    """A credentials dict that records every key the connector reads."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.read_keys: set[str] = set()

    def __getitem__(self, key):
        self.read_keys.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read_keys.add(key)
        return super().get(key, default)

    def __contains__(self, key):
        self.read_keys.add(key)
        return super().__contains__(key)

    def setdefault(self, key, default=None):
        self.read_keys.add(key)
        return super().setdefault(key, default)

    def pop(self, key, *default):
        self.read_keys.add(key)
        return super().pop(key, *default)


class RecordingTransport(httpx.BaseTransport):
    """An HTTP transport that records the host of every request it sends."""

    def __init__(self, inner: httpx.BaseTransport | None = None):
        self.inner = inner or httpx.HTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class RecordingNetworkStrategy(PooledNetworkStrategy):
    """The hub's pooled strategy with its allowlist off, recording every host.

    Hosts are recorded at the transport, so each redirect hop counts too.
    """

    def __init__(self, **kwargs: Any):
        self.recorder = RecordingTransport()
        super().__init__(allowed_hosts=None, transport=self.recorder, **kwargs)

    @property
    def hosts(self) -> list[str]:
        return self.recorder.hosts

    def finalize(self):
        super().finalize()
        self.recorder.close()


class CollectingStrategy(IngestResourcesStrategy):
    """Keeps every declared resource and lineage edge in memory."""

    def __init__(self):
        self.resources = []
        self.lineage = []

    def declare_resource(self, resource):
        self.resources.append(resource)

    def declare_lineage(self, lineage):
        self.lineage.append(lineage)

    def finalize(self):
        pass
