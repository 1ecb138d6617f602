"""The Cluvio connector against the local Cluvio-compatible server."""

import httpx
import pytest

from hub.errors import AuthenticationError, EgressDeniedError, IntegrationError
from hub.sdk.egress import EgressPolicy
from hub.sdk.http import PooledNetworkStrategy
from hub.sdk.strategies import IngestResourcesStrategy
from secoda_connector_cluvio import CluvioIntegration
from secoda_connector_cluvio.testserver import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    CluvioTestServer,
    generate_account,
)


class Collector(IngestResourcesStrategy):
    def __init__(self):
        self.resources = {}
        self.lineage = []

    def declare_resource(self, resource):
        self.resources[resource.databuilder_id] = resource

    def declare_lineage(self, lineage):
        self.lineage.append(lineage)

    def finalize(self):
        pass


@pytest.fixture(scope="module")
def account():
    return generate_account(12, reports_per_dashboard=4, seed=3)


@pytest.fixture
def server(account):
    with CluvioTestServer(
        account, email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD
    ) as running:
        yield running


def extract(server, **overrides):
    credentials = {
        "email": DEFAULT_EMAIL,
        "password": DEFAULT_PASSWORD,
        "base_url": server.url,
        **overrides,
    }
    allowed = [server.url.removeprefix("http://")]
    collector, network = Collector(), PooledNetworkStrategy(allowed_hosts=allowed)
    connector = CluvioIntegration(
        credentials=credentials,
        ingest_resources_strategy=collector,
        network_call_strategy=network,
    )
    # start() finalizes only after a successful extract, as in secodadk.
    try:
        connector.start()
    finally:
        network.finalize()
    return collector


def test_extracts_every_dashboard_and_report(server, account):
    collected = extract(server)

    ids = set(collected.resources)
    assert {f"cluvio.dashboard.{d.id}" for d in account.dashboards} <= ids
    assert {f"cluvio.report.{r.id}" for r in account.reports} <= ids
    assert len(ids) == 1 + account.dashboard_count + account.report_count


def test_charts_have_parent_and_product(server, account):
    collected = extract(server)

    for report in account.reports:
        chart = collected.resources[f"cluvio.report.{report.id}"]
        assert chart.entity_type == "chart"
        assert chart.product == "cluvio"
        assert chart.parent_databuilder_id == f"cluvio.dashboard.{report.dashboard_id}"
        assert chart.definition == report.query


def test_report_sql_flows_into_chart(server, account):
    collected = extract(server)

    sql_edges = {
        edge.to_identifier.databuilder_id: edge.from_identifier.sql
        for edge in collected.lineage
        if edge.from_identifier.type == "tables_from_query"
    }
    assert sql_edges == {f"cluvio.report.{r.id}": r.query for r in account.reports}


def test_every_internal_end_is_declared(server):
    collected = extract(server)

    for edge in collected.lineage:
        for end in (edge.from_identifier, edge.to_identifier):
            if end.type == "internal_resource":
                assert end.databuilder_id in collected.resources


def test_ids_are_stable_across_runs(server):
    assert set(extract(server).resources) == set(extract(server).resources)


def test_wrong_password_names_base_url(server):
    with pytest.raises(AuthenticationError, match=f"sign-in failed for {server.url}"):
        extract(server, password="wrong")


def test_default_base_url_is_cluvio():
    declared = {field.name: field for field in CluvioIntegration.credential_fields}

    assert declared["base_url"].default == "https://api.cluvio.com"
    assert declared["password"].secret is True
    assert declared["base_url"].required is False


def test_invalid_base_url_is_rejected(server):
    with pytest.raises(IntegrationError, match="not an http"):
        extract(server, base_url="ftp://example.test")


def test_trailing_slash_in_base_url(server, account):
    collected = extract(server, base_url=server.url + "/")

    assert (
        len(collected.resources) == 1 + account.dashboard_count + account.report_count
    )


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("api.cluvio.com", True),
        ("eu-api.cluvio.com", True),
        ("api.eu.cluvio.com", True),
        ("cluvio.com", False),
        ("api.cluvio.com.example.test", False),
        ("notcluvio.com", False),
    ],
)
def test_allowlist_covers_cluvio_hosts(host, allowed):
    policy = EgressPolicy(CluvioIntegration.allowed_hosts)

    if allowed:
        policy.check(httpx.URL(f"https://{host}/users/sign_in"))
    else:
        with pytest.raises(EgressDeniedError):
            policy.check(httpx.URL(f"https://{host}/users/sign_in"))
