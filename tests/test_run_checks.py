"""What ``hub run`` does with questionable models, SQL and hosts, end to end."""

import json
import textwrap

import pytest

from conftest import run_hub_process
from hub.connectors import ConnectorEntry
from hub.hookspecs import hookimpl
from hub.plugins import get_plugin_manager
from hub.runner import RunRequest, run
from hub.sdk import Resource, SecodaIntegration

# Declares one of each problem the validator, the catalog and the SQL parser
# report, next to models that are fine.
QUESTIONABLE_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import (
        DeclaredLineage,
        InternalResource,
        Resource,
        SecodaIntegration,
        TablesFromSQLQuery,
    )


    def edge(source, target_id):
        return DeclaredLineage(
            from_identifier=source,
            to_identifier=InternalResource(databuilder_id=target_id),
        )


    SPELLINGS = (("w.orders", "first"), (" w.orders", "second"))
    JOINED = "SELECT * FROM shop.orders o JOIN shop.items i ON o.id = i.order_id"


    class Questionable(SecodaIntegration):
        def extract(self):
            for databuilder_id, title in SPELLINGS:
                self.declare_resource(
                    Resource(
                        entity_type="table",
                        databuilder_id=databuilder_id,
                        title=title,
                        schema="public",
                        database="w",
                    )
                )
            bare = Resource(entity_type="table", databuilder_id="w.bare")
            self.declare_resource(bare)
            self.declare_resource(
                Resource(
                    entity_type="chart",
                    databuilder_id="c.1",
                    product="bi",
                    parent_databuilder_id="w.orders",
                )
            )
            broken = TablesFromSQLQuery(sql="SELECT * FROM JOIN")
            self.declare_lineage(edge(broken, "c.1"))
            self.declare_lineage(edge(TablesFromSQLQuery(sql=JOINED), "c.1"))
            self.declare_lineage(
                edge(InternalResource(databuilder_id="c.1"), "ghost.dashboard")
            )
    """
)

# Calls the server in its credentials and declares no allowed hosts.
UNDECLARED_HOSTS_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import Resource, SecodaIntegration


    class NoHosts(SecodaIntegration):
        def extract(self):
            response = self.http_get(self.credentials["base_url"] + "/dashboards")
            self.declare_resource(
                Resource(
                    entity_type="dashboard",
                    databuilder_id="status",
                    title=str(response.status_code),
                )
            )
    """
)


# BigQuery quotes a whole dotted name in backticks, which sqlglot's default
# dialect does not parse.
BIGQUERY_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import (
        DeclaredLineage,
        InternalResource,
        Resource,
        SecodaIntegration,
        TablesFromSQLQuery,
    )


    class {name}(SecodaIntegration):
        sql_dialect = {dialect!r}

        def extract(self):
            self.declare_resource(
                Resource(
                    entity_type="chart",
                    databuilder_id="chart.1",
                    product="bi",
                    parent_databuilder_id="dashboard.1",
                )
            )
            self.declare_lineage(
                DeclaredLineage(
                    from_identifier=TablesFromSQLQuery(
                        sql="SELECT * FROM `proj.sales.orders`"
                    ),
                    to_identifier=InternalResource(databuilder_id="chart.1"),
                )
            )
    """
)


@pytest.fixture
def questionable(tmp_path):
    path = tmp_path / "questionable.py"
    path.write_text(QUESTIONABLE_CONNECTOR)
    return path


def catalog_json(hub, *args):
    result = hub("catalog", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_run_warns_and_succeeds(hub, questionable):
    result = hub("run", str(questionable), "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["validation"] == {
        "violations": 3,
        "by_rule": {"missing_field": 2, "unnormalized_id": 1},
    }
    assert summary["catalog"]["duplicates"]["count"] == 1
    assert summary["catalog"]["duplicates"]["examples"] == ["w.orders"]
    assert summary["catalog"]["dangling"]["count"] == 1
    assert summary["catalog"]["dangling"]["examples"] == ["ghost.dashboard"]
    assert summary["sql_lineage"] == {"queries": 2, "tables": 2, "failed": 1}


def test_warnings_name_id_and_field(hub, questionable):
    result = hub("run", str(questionable))

    assert result.exit_code == 0, result.output
    warnings = result.stderr
    assert "table 'w.bare' has no schema" in warnings
    assert "table 'w.bare' has no database" in warnings
    assert "databuilder_id ' w.orders' is stored as 'w.orders'" in warnings
    assert "no SQL lineage for" in warnings
    assert "-> internal_resource 'c.1'" in warnings
    assert "Expected table name but got JOIN" in warnings
    assert "replaced an earlier one with the same id: w.orders" in warnings
    assert "name no declared resource: ghost.dashboard" in warnings
    assert "Traceback" not in result.output


def test_catalog_after_questionable_run(hub, questionable):
    assert hub("run", str(questionable)).exit_code == 0

    resources = catalog_json(hub, "resources")
    upstream = catalog_json(hub, "lineage", "c.1", "--upstream")
    downstream = catalog_json(hub, "lineage", "c.1", "--downstream")

    titles = {row["databuilder_id"]: row["title"] for row in resources}
    # The later declaration wins, and the dangling end invents no resource.
    assert titles == {"c.1": "", "w.bare": "", "w.orders": "second"}
    [parsed] = [child for child in upstream["children"] if child["children"]]
    assert {table["ref"] for table in parsed["children"]} == {
        "shop.orders",
        "shop.items",
    }
    assert [child["ref"] for child in downstream["children"]] == ["ghost.dashboard"]


@pytest.mark.parametrize(
    ("dialect", "tables", "failed"),
    [("bigquery", 1, 0), (None, 0, 1)],
    ids=["bigquery", "default"],
)
def test_connector_dialect_reaches_parser(hub, tmp_path, dialect, tables, failed):
    path = tmp_path / "warehouse_charts.py"
    path.write_text(BIGQUERY_CONNECTOR.format(name="WarehouseCharts", dialect=dialect))

    result = hub("run", str(path), "--json")

    assert result.exit_code == 0, result.output
    sql = json.loads(result.stdout)["sql_lineage"]
    assert sql == {"queries": 1, "tables": tables, "failed": failed}
    if tables:
        upstream = catalog_json(hub, "lineage", "chart.1", "--upstream")
        [query] = upstream["children"]
        assert [table["ref"] for table in query["children"]] == ["proj.sales.orders"]


def test_strict_run_fails_on_violation(hub, questionable):
    result = hub("run", str(questionable), "--strict")

    assert result.exit_code == 1
    assert "databuilder_id ' w.orders' is stored as 'w.orders'" in result.stderr
    assert catalog_json(hub, "resources") == []
    assert "failed" in hub("runs").stdout


def test_undeclared_hosts_need_user_allow(hub, tmp_path, cluvio_server):
    path = tmp_path / "nohosts.py"
    path.write_text(UNDECLARED_HOSTS_CONNECTOR)
    hub("credentials", "set", str(path), f"base_url={cluvio_server.url}")

    refused = hub("run", str(path))

    assert refused.exit_code == 1
    assert "'127.0.0.1'" in refused.stderr
    assert f"`hub credentials set {path} --allow-host 127.0.0.1`" in refused.stderr
    assert cluvio_server.connection_count == 0

    port = cluvio_server.port
    allow = hub("credentials", "set", str(path), "--allow-host", f"127.0.0.1:{port}")
    allowed = hub("run", str(path), "--json")

    assert allow.exit_code == 0, allow.output
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["resources"] == 1
    assert cluvio_server.request_count == 1


class RecordingSink:
    """A run output that keeps each body it receives, in order."""

    def __init__(self):
        self.bodies = []
        self.committed = False

    def write_resource(self, resource, body):
        self.bodies.append(body)

    def write_lineage(self, lineage, body):
        self.bodies.append(body)

    def commit(self):
        self.committed = True

    def abort(self):
        pass


class RecordingOutputs:
    def __init__(self):
        self.sink = RecordingSink()

    @hookimpl
    def hub_open_outputs(self, output_dir):
        return [self.sink]


class Streaming(SecodaIntegration):
    """Checks after each declaration that the run's outputs already have it."""

    sink: RecordingSink

    def extract(self):
        if not isinstance(self.credentials, dict):
            raise TypeError(f"credentials is a {type(self.credentials).__name__}")
        for number in range(20):
            self.declare_resource(
                Resource(entity_type="dashboard", databuilder_id=f"d.{number}")
            )
            if len(self.sink.bodies) != number + 1:
                raise AssertionError(f"d.{number} had not reached the outputs")


def test_models_reach_outputs_as_declared(tmp_path):
    outputs = RecordingOutputs()
    Streaming.sink = outputs.sink
    manager = get_plugin_manager()
    manager.register(outputs, name="test-recording-outputs")
    entry = ConnectorEntry(
        name="streaming",
        target="tests/test_run_checks.py:Streaming",
        distribution=None,
        version=None,
        origin="file",
        load=lambda: Streaming,
    )
    try:
        report = run(
            RunRequest(entry=entry, catalog_location=str(tmp_path / "c.sqlite"))
        )
    finally:
        manager.unregister(name="test-recording-outputs")

    assert report.status == "succeeded"
    assert len(outputs.sink.bodies) == 20
    assert outputs.sink.committed is True


# Declares an edge between two external tables and an id with control
# characters in it.
NO_INTERNAL_END_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import DeclaredLineage, ExternalTable, Resource, SecodaIntegration


    class Outside(SecodaIntegration):
        def extract(self):
            self.declare_resource(
                Resource(entity_type="dashboard", databuilder_id="d\\x00\\x1b[2J")
            )
            self.declare_lineage(
                DeclaredLineage(
                    from_identifier=ExternalTable(table="raw.orders"),
                    to_identifier=ExternalTable(table="mart.orders"),
                )
            )
    """
)


@pytest.fixture
def outside(tmp_path):
    path = tmp_path / "outside.py"
    path.write_text(NO_INTERNAL_END_CONNECTOR)
    return path


def test_external_only_edge_warned(outside):
    result = run_hub_process("run", str(outside), "--json")

    assert result.returncode == 0, result.stderr
    validation = json.loads(result.stdout)["validation"]
    assert validation["by_rule"] == {"control_character": 1, "unsupported_lineage": 1}
    assert "neither end is an internal_resource" in result.stderr
    assert "(U+0000, U+001B)" in result.stderr
    assert "\x1b" not in result.stderr


def test_external_only_edge_strict_fails(outside):
    result = run_hub_process("run", str(outside), "--strict")

    assert result.returncode == 1
    assert "control characters (U+0000, U+001B)" in result.stderr
