"""The standard test suite every connector adopts: see :class:`ConnectorSuite`."""

from hub.testing.recording import (
    CollectingStrategy,
    RecordingNetworkStrategy,
    RecordingTransport,
    TrackingCredentials,
)
from hub.testing.suite import ConnectorSuite, SuiteRun, run_connector

__all__ = [
    "CollectingStrategy",
    "ConnectorSuite",
    "RecordingNetworkStrategy",
    "RecordingTransport",
    "SuiteRun",
    "TrackingCredentials",
    "run_connector",
]
