"""The standard connector test suite, adopted by subclassing one class.

Example, in a connector's tests::

    class TestAcmeStandard(ConnectorSuite):
        connector = AcmeIntegration
        server_fixture = "acme_server"
        credentials = {"api_token": "t0ken", "base_url": "{server_url}"}

``server_fixture`` names a pytest fixture that yields the connector's local
test server (an object with a ``url`` attribute, or the URL itself). Every
``{server_url}`` in a credential value is replaced by that URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

import httpx
import pytest

from hub.sdk import SecodaIntegration
from hub.testing.recording import (
    CollectingStrategy,
    RecordingNetworkStrategy,
    TrackingCredentials,
)

SECRET_WORDS = re.compile(r"password|passwd|token|secret|key", re.IGNORECASE)


@dataclass
class SuiteRun:
    """What one run of the connector declared, read and requested."""

    resources: list
    lineage: list
    read_keys: set[str]
    hosts: list[str]

    @property
    def resource_ids(self) -> list[str]:
        return [resource.databuilder_id for resource in self.resources]


def run_connector(connector: type[SecodaIntegration], credentials: dict) -> SuiteRun:
    """Run ``connector`` once with recording strategies and return what it did."""
    tracked = TrackingCredentials(credentials)
    collected = CollectingStrategy()
    network = RecordingNetworkStrategy()
    instance = connector(
        credentials=tracked,
        ingest_resources_strategy=collected,
        network_call_strategy=network,
    )
    try:
        instance.start()
    finally:
        network.finalize()
    return SuiteRun(
        collected.resources, collected.lineage, tracked.read_keys, network.hosts
    )


class ConnectorSuite:
    """Checks every connector must pass against its local test server."""

    connector: ClassVar[type[SecodaIntegration]]
    credentials: ClassVar[dict[str, str]] = {}
    server_fixture: ClassVar[str] = "server"

    @pytest.fixture
    def suite_server_url(self, request) -> str:
        server = request.getfixturevalue(self.server_fixture)
        return str(getattr(server, "url", server))

    @pytest.fixture
    def suite_credentials(self, suite_server_url) -> dict[str, str]:
        return {
            key: str(value).replace("{server_url}", suite_server_url)
            for key, value in self.credentials.items()
        }

    @pytest.fixture
    def suite_run(self, suite_credentials) -> SuiteRun:
        return run_connector(self.connector, suite_credentials)

    def test_declares_some_resources(self, suite_run):
        assert suite_run.resources, "the connector declared no resource"

    def test_reads_only_declared_fields(self, suite_run):
        declared = {field.name for field in self.connector.credential_fields}
        undeclared = suite_run.read_keys - declared
        assert not undeclared, (
            f"reads credential keys {sorted(undeclared)} that credential_fields "
            "does not declare"
        )

    def test_declared_fields_are_read(self, suite_run):
        declared = {field.name for field in self.connector.credential_fields}
        unread = declared - suite_run.read_keys
        assert not unread, f"declares credential fields {sorted(unread)} it never reads"

    def test_secret_looking_fields_are_secret(self):
        exposed = [
            field.name
            for field in self.connector.credential_fields
            if SECRET_WORDS.search(field.name) and not field.secret
        ]
        assert not exposed, f"fields {exposed} look secret but lack secret=True"

    def test_requests_stay_on_allowed_hosts(self, suite_run, suite_server_url):
        allowed = set(self.connector.allowed_hosts) | {httpx.URL(suite_server_url).host}
        outside = sorted(set(suite_run.hosts) - allowed)
        assert not outside, f"requests went to hosts outside allowed_hosts: {outside}"

    def test_allowed_hosts_declared(self):
        assert self.connector.allowed_hosts, "allowed_hosts is empty"

    def test_two_runs_give_same_ids(self, suite_run, suite_credentials):
        second = run_connector(self.connector, suite_credentials)
        assert sorted(second.resource_ids) == sorted(suite_run.resource_ids)

    def test_resource_ids_are_unique(self, suite_run):
        ids = suite_run.resource_ids
        assert len(ids) == len(set(ids)), "a databuilder_id was declared twice"

    def test_internal_lineage_ends_resolve(self, suite_run):
        declared = set(suite_run.resource_ids)
        dangling = sorted(
            end.databuilder_id
            for edge in suite_run.lineage
            for end in (edge.from_identifier, edge.to_identifier)
            if end.type == "internal_resource" and end.databuilder_id not in declared
        )
        assert not dangling, f"lineage names undeclared internal resources: {dangling}"
