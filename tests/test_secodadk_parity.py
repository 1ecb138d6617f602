"""Differential tests: ``hub.sdk`` against the real ``secodadk`` 0.0.6.

Each SDK runs the same probe (``tests/secodadk_env.py``) in its own interpreter.
The hub's probe runs under this environment's python, and the ``secodadk`` probe
under a throwaway virtual environment built from the package index. Both probes
receive every case at once, and the tests compare the results case by case.
Every intended difference is listed in ``docs/sdk-differences.md`` and asserted
here.
"""

import json
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pydantic
import pytest
from secodadk_env import HTTP_METHODS, create_secodadk_venv, run_probe

import hub.sdk
import hub.sdk.strategies
from hub.errors import EgressDeniedError
from hub.sdk import NetworkCallStrategy, SecodaIntegration
from hub.sdk.http import PooledNetworkStrategy

pytestmark = pytest.mark.slow

# Requests per strategy in the connection-reuse comparison.
PORTS_COUNT = 3


def case(case_id, model, data, expect, python_values=None):
    return {
        "id": case_id,
        "model": model,
        "data": data,
        "expect": expect,
        "python_values": python_values or {},
    }


def resource(**fields):
    return {"entity_type": "table", "databuilder_id": "warehouse.sales", **fields}


def lineage(from_identifier, to_identifier):
    return {"from_identifier": from_identifier, "to_identifier": to_identifier}


INTERNAL = {"type": "internal_resource", "databuilder_id": "cluvio.dashboard.7"}
EXTERNAL_TABLE = {
    "type": "external_table",
    "cluster": "prod",
    "database": "analytics",
    "schema": "public",
    "table": "orders",
}
EXTERNAL_COLUMN = {**EXTERNAL_TABLE, "type": "external_column", "column": "total"}
QUERY = {"type": "tables_from_query", "sql": "select * from public.orders"}

EVERY_RESOURCE_FIELD = {
    "entity_type": "column",
    "databuilder_id": "warehouse.sales.amount",
    "parent_databuilder_id": "warehouse.sales",
    "title": "amount",
    "description": "Order total in cents.",
    "definition": "price * quantity",
    "external_updated_at": "2024-03-01T12:30:00+00:00",
    "native_type": "numeric(12, 2)",
    "owners": ["ada@example.com", "grace@example.com"],
    "sort_order": 4,
    "type": "numeric",
    "is_pk": True,
    "hidden": True,
    "schema": "sales",
    "database": "warehouse",
    "group": "finance",
    "product": "cluvio",
}

ENTITY_CASES = [
    case("entity-database", "Resource", resource(entity_type="database"), "accept"),
    case(
        "entity-schema",
        "Resource",
        resource(entity_type="schema", database="warehouse"),
        "accept",
    ),
    case(
        "entity-table",
        "Resource",
        resource(schema="public", database="warehouse", title="sales"),
        "accept",
    ),
    case(
        "entity-column",
        "Resource",
        resource(
            entity_type="column",
            parent_databuilder_id="warehouse.sales",
            sort_order=0,
            type="int",
            is_pk=True,
        ),
        "accept",
    ),
    case(
        "entity-dashboard-group",
        "Resource",
        resource(entity_type="dashboard_group", title="Finance"),
        "accept",
    ),
    case(
        "entity-dashboard",
        "Resource",
        resource(entity_type="dashboard", group="Finance"),
        "accept",
    ),
    case(
        "entity-chart",
        "Resource",
        resource(entity_type="chart", product="cluvio", parent_databuilder_id="d.7"),
        "accept",
    ),
    # Secoda documents the entity types, but neither SDK checks them.
    case("entity-unlisted", "Resource", resource(entity_type="notebook"), "accept"),
    case("resource-every-field", "Resource", EVERY_RESOURCE_FIELD, "accept"),
    case("resource-required-only", "Resource", resource(), "accept"),
]

DATETIME_CASES = [
    case(
        "datetime-offset",
        "Resource",
        resource(external_updated_at="2024-03-01T12:30:00+02:00"),
        "accept",
    ),
    case(
        "datetime-zulu",
        "Resource",
        resource(external_updated_at="2024-03-01T12:30:00Z"),
        "accept",
    ),
    case(
        "datetime-naive",
        "Resource",
        resource(external_updated_at="2024-03-01T12:30:00"),
        "accept",
    ),
    case(
        "datetime-date-only",
        "Resource",
        resource(external_updated_at="2024-03-01"),
        "accept",
    ),
    case(
        "datetime-microseconds",
        "Resource",
        resource(external_updated_at="2024-03-01T12:30:00.123456-05:30"),
        "accept",
    ),
    case(
        "datetime-unix-seconds",
        "Resource",
        resource(external_updated_at=1709296200),
        "accept",
    ),
    case(
        "datetime-object-aware",
        "Resource",
        resource(),
        "accept",
        {"external_updated_at": ["datetime", "2024-03-01T12:30:00+02:00"]},
    ),
    case(
        "datetime-object-naive",
        "Resource",
        resource(),
        "accept",
        {"external_updated_at": ["datetime", "2024-03-01T12:30:00"]},
    ),
    case(
        "datetime-object-date",
        "Resource",
        resource(),
        "accept",
        {"external_updated_at": ["date", "2024-03-01"]},
    ),
    case(
        "datetime-not-a-date",
        "Resource",
        resource(external_updated_at="yesterday"),
        "reject",
    ),
    case("datetime-empty", "Resource", resource(external_updated_at=""), "reject"),
]

EMPTY_CASES = [
    case("title-none", "Resource", resource(title=None), "accept"),
    case("title-empty", "Resource", resource(title=""), "accept"),
    case("description-empty", "Resource", resource(description=""), "accept"),
    case("owners-empty", "Resource", resource(owners=[]), "accept"),
    case(
        "optionals-all-none",
        "Resource",
        resource(
            parent_databuilder_id=None,
            description=None,
            definition=None,
            external_updated_at=None,
            native_type=None,
            owners=None,
            sort_order=None,
            type=None,
            is_pk=None,
            hidden=None,
            schema=None,
            database=None,
            group=None,
            product=None,
        ),
        "accept",
    ),
    case("sort-order-numeric-string", "Resource", resource(sort_order="3"), "accept"),
    case("is-pk-string", "Resource", resource(is_pk="yes"), "accept"),
]

INVALID_RESOURCE_CASES = [
    case("missing-entity-type", "Resource", {"databuilder_id": "a"}, "reject"),
    case("missing-databuilder-id", "Resource", {"entity_type": "table"}, "reject"),
    case("missing-both-required", "Resource", {}, "reject"),
    case("databuilder-id-none", "Resource", resource(databuilder_id=None), "reject"),
    case("sort-order-word", "Resource", resource(sort_order="first"), "reject"),
    case("sort-order-fraction", "Resource", resource(sort_order=1.5), "reject"),
    case("title-int", "Resource", resource(title=5), "reject"),
    case("owners-string", "Resource", resource(owners="ada"), "reject"),
    case("owners-int-item", "Resource", resource(owners=["ada", 1]), "reject"),
    case("hidden-word", "Resource", resource(hidden="maybe"), "reject"),
    case("extra-field-ignored", "Resource", resource(colour="blue"), "accept"),
]

LINEAGE_CASES = [
    case(
        "lineage-internal-internal",
        "DeclaredLineage",
        lineage(INTERNAL, {**INTERNAL, "databuilder_id": "cluvio.report.1"}),
        "accept",
    ),
    case(
        "lineage-table-internal",
        "DeclaredLineage",
        lineage(EXTERNAL_TABLE, INTERNAL),
        "accept",
    ),
    case(
        "lineage-internal-table",
        "DeclaredLineage",
        lineage(INTERNAL, EXTERNAL_TABLE),
        "accept",
    ),
    case(
        "lineage-column-internal",
        "DeclaredLineage",
        lineage(EXTERNAL_COLUMN, INTERNAL),
        "accept",
    ),
    case(
        "lineage-internal-column",
        "DeclaredLineage",
        lineage(INTERNAL, EXTERNAL_COLUMN),
        "accept",
    ),
    case(
        "lineage-table-table",
        "DeclaredLineage",
        lineage(EXTERNAL_TABLE, {"type": "external_table", "table": "payments"}),
        "accept",
    ),
    case(
        "lineage-query-internal",
        "DeclaredLineage",
        lineage(QUERY, INTERNAL),
        "accept",
    ),
    # Secoda allows a query only as a source, but neither model checks that.
    case(
        "lineage-internal-query",
        "DeclaredLineage",
        lineage(INTERNAL, QUERY),
        "accept",
    ),
    case(
        "lineage-table-minimal",
        "DeclaredLineage",
        lineage({"type": "external_table", "table": "orders"}, INTERNAL),
        "accept",
    ),
    case(
        "lineage-unknown-type",
        "DeclaredLineage",
        lineage({"type": "bogus", "table": "orders"}, INTERNAL),
        "reject",
    ),
    case(
        "lineage-missing-type",
        "DeclaredLineage",
        lineage({"table": "orders"}, INTERNAL),
        "reject",
    ),
    case(
        "lineage-table-missing-table",
        "DeclaredLineage",
        lineage({"type": "external_table", "schema": "public"}, INTERNAL),
        "reject",
    ),
    case(
        "lineage-column-missing-column",
        "DeclaredLineage",
        lineage(INTERNAL, {"type": "external_column", "table": "orders"}),
        "reject",
    ),
    case(
        "lineage-query-missing-sql",
        "DeclaredLineage",
        lineage({"type": "tables_from_query"}, INTERNAL),
        "reject",
    ),
    case(
        "lineage-missing-to",
        "DeclaredLineage",
        {"from_identifier": INTERNAL},
        "reject",
    ),
    case(
        "lineage-identifier-string",
        "DeclaredLineage",
        lineage("cluvio.dashboard.7", INTERNAL),
        "reject",
    ),
    case(
        "lineage-identifier-extra-field",
        "DeclaredLineage",
        lineage({**INTERNAL, "note": "ignored"}, EXTERNAL_TABLE),
        "accept",
    ),
]

IDENTIFIER_CASES = [
    case(
        "internal-type-defaulted", "InternalResource", {"databuilder_id": "a"}, "accept"
    ),
    case(
        "external-table-wrong-type",
        "ExternalTable",
        {"type": "internal_resource", "table": "orders"},
        "reject",
    ),
    case("external-column-direct", "ExternalColumn", EXTERNAL_COLUMN, "accept"),
    case("query-direct", "TablesFromSQLQuery", {"sql": "select 1"}, "accept"),
    case("query-sql-int", "TablesFromSQLQuery", {"sql": 1}, "reject"),
]

CASES = [
    *ENTITY_CASES,
    *DATETIME_CASES,
    *EMPTY_CASES,
    *INVALID_RESOURCE_CASES,
    *LINEAGE_CASES,
    *IDENTIFIER_CASES,
]

SCHEMA_MODELS = [
    "Resource",
    "InternalResource",
    "ExternalTable",
    "ExternalColumn",
    "TablesFromSQLQuery",
    "DeclaredLineage",
]

# The listing the script-mode connector reads from the local server.
LISTING = {
    "tables": [
        {
            "name": "orders",
            "updated": "2024-05-01T10:00:00Z",
            "owner": "ada@example.com",
            "columns": ["id", "total"],
            "sql": "select * from raw.orders",
        },
        {
            "name": "refunds",
            "updated": "2024-05-02",
            "owner": None,
            "columns": [],
            "sql": "select * from raw.refunds join raw.orders using (id)",
        },
    ]
}

# A connector written once against secodadk; only its import line changes.
SCRIPT_CONNECTOR = textwrap.dedent(
    '''
    """Reads a table listing and declares each table, column and source query."""

    import sys

    from {package} import (
        DeclaredLineage,
        InternalResource,
        Resource,
        SecodaIntegration,
        TablesFromSQLQuery,
    )


    class ListingConnector(SecodaIntegration):
        def extract(self):
            url = self.credentials["base_url"] + "/tables"
            listing = self.http_get(url, headers={{"Accept": "application/json"}})
            for table in listing.json()["tables"]:
                table_id = "warehouse.public." + table["name"]
                owners = [table["owner"]] if table["owner"] else []
                self.declare_resource(
                    Resource(
                        entity_type="table",
                        databuilder_id=table_id,
                        title=table["name"],
                        external_updated_at=table["updated"],
                        owners=owners,
                        schema="public",
                        database="warehouse",
                    )
                )
                for position, column in enumerate(table["columns"]):
                    self.declare_resource(
                        Resource(
                            entity_type="column",
                            databuilder_id=table_id + "." + column,
                            parent_databuilder_id=table_id,
                            title=column,
                            sort_order=position,
                        )
                    )
                self.declare_lineage(
                    DeclaredLineage(
                        from_identifier=TablesFromSQLQuery(sql=table["sql"]),
                        to_identifier=InternalResource(databuilder_id=table_id),
                    )
                )


    if __name__ == "__main__":
        ListingConnector(credentials={{"base_url": sys.argv[1]}}).start()
    '''
)

SCRIPT_MODEL_COUNT = 2 + 2 + 2  # two tables, two columns, two lineage edges


class ListingHandler(BaseHTTPRequestHandler):
    """Serves the listing and, on ``/port``, the client's TCP port."""

    # HTTP/1.1 keeps connections open, so a pooled client can reuse one.
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.server.requests_served += 1
        if self.path == "/tables":
            body = LISTING
        elif self.path == "/port":
            body = {"client_port": self.client_address[1]}
        else:
            self.send_error(404)
            return
        encoded = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def listing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ListingHandler)
    server.daemon_threads = True
    server.requests_served = 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def secodadk_python(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("secodadk-venv")
    return create_secodadk_venv(directory, pydantic.VERSION)


@pytest.fixture(scope="module")
def probe_request(listing_server) -> dict:
    return {
        "cases": CASES,
        "schema_models": SCHEMA_MODELS,
        "ports_url": listing_server.url + "/port",
        "ports_count": PORTS_COUNT,
    }


@pytest.fixture(scope="module")
def hub_results(probe_request) -> dict:
    return run_probe(Path(sys.executable), "hub", probe_request)


@pytest.fixture(scope="module")
def secodadk_results(secodadk_python, probe_request) -> dict:
    return run_probe(secodadk_python, "secodadk", probe_request)


def test_case_table_is_large():
    ids = [item["id"] for item in CASES]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("item", CASES, ids=[item["id"] for item in CASES])
def test_model_case_matches(item, hub_results, secodadk_results):
    ours = hub_results["cases"][item["id"]]
    reference = secodadk_results["cases"][item["id"]]
    assert ours["accepted"] == (item["expect"] == "accept")
    assert ours["accepted"] == reference["accepted"]
    assert ours.get("dump") == reference.get("dump")
    assert ours.get("locations") == reference.get("locations")


@pytest.mark.parametrize("model", SCHEMA_MODELS)
def test_json_schema_matches(model, hub_results, secodadk_results):
    assert hub_results["schemas"][model] == secodadk_results["schemas"][model]


def test_constructor_keyword_only(hub_results, secodadk_results):
    ours = hub_results["surface"]["constructor"]["parameters"]
    kinds = {kind for name, kind, default in ours if name != "self"}
    assert kinds == {"KEYWORD_ONLY"}
    assert ours == secodadk_results["surface"]["constructor"]["parameters"]
    assert hub_results["positional_constructor_rejected"] is True
    assert secodadk_results["positional_constructor_rejected"] is True


def test_start_extracts_then_finalizes(hub_results, secodadk_results):
    calls = hub_results["start_calls"]
    assert calls[0] == ["extract"]
    assert calls[-2:] == [["ingest.finalize"], ["network.finalize"]]
    assert calls == secodadk_results["start_calls"]


def test_custom_strategies_honoured(hub_results):
    names = [call[0] for call in hub_results["start_calls"]]
    assert names[1:4] == ["make_request", "declare_resource", "declare_lineage"]
    # The connector names its resource after the canned response body.
    assert hub_results["start_calls"][2][1]["databuilder_id"] == "canned"


@pytest.mark.parametrize(
    "method", [name for name in HTTP_METHODS if name != "http_put"]
)
def test_http_kwargs_match(method, hub_results, secodadk_results):
    ours = hub_results["http_methods"][method]
    assert ours["returns_strategy_response"] is True
    assert ours == secodadk_results["http_methods"][method]


def test_http_put_keeps_auth(hub_results, secodadk_results):
    [[_, our_method, our_url, ours]] = hub_results["http_methods"]["http_put"]["calls"]
    [[_, method, url, reference]] = secodadk_results["http_methods"]["http_put"][
        "calls"
    ]
    assert ours["auth"] == {"class": "BasicAuth", "same_object": True}
    assert "auth" not in reference
    assert {name: ours[name] for name in ours if name != "auth"} == reference
    assert (our_method, our_url) == (method, url)


@pytest.mark.parametrize("method", HTTP_METHODS)
def test_http_parameters_match(method, hub_results, secodadk_results):
    ours = hub_results["surface"]["http_signatures"][method]["parameters"]
    reference = secodadk_results["surface"]["http_signatures"][method]["parameters"]
    assert ours[-1] == ["timeout", "KEYWORD_ONLY", "None"]
    assert ours[:-1] == reference


def test_http_timeout_reaches_strategy():
    calls = []

    class Recording(NetworkCallStrategy):
        def make_request(self, method, url, **kwargs):
            calls.append(kwargs)
            return httpx.Response(204, request=httpx.Request(method, url))

    class Bare(SecodaIntegration):
        def extract(self):
            pass

    connector = Bare(credentials={}, network_call_strategy=Recording())
    connector.http_get("https://api.example.invalid/", timeout=5.0)
    connector.http_get("https://api.example.invalid/")

    assert calls[0]["timeout"] == 5.0
    assert "timeout" not in calls[1]


@pytest.mark.parametrize("method", HTTP_METHODS)
def test_http_return_annotation_added(method, hub_results, secodadk_results):
    assert hub_results["surface"]["http_signatures"][method]["returns"] == "Response"
    assert secodadk_results["surface"]["http_signatures"][method]["returns"] is None


def test_make_request_signature_matches(hub_results, secodadk_results):
    assert (
        hub_results["surface"]["make_request"]
        == secodadk_results["surface"]["make_request"]
    )


def test_abstract_methods_match(hub_results, secodadk_results):
    for name in ("integration_abstract", "ingest_abstract", "network_abstract"):
        assert hub_results["surface"][name] == secodadk_results["surface"][name], name


def test_default_network_call_matches(hub_results, secodadk_results):
    ours = hub_results["default_network"]
    assert ours["kwargs"]["timeout"] == 120
    assert ours["kwargs"]["auth"] == {"class": "BasicAuth", "same_object": True}
    assert ours == secodadk_results["default_network"]


def test_script_mode_output_identical(tmp_path, listing_server, secodadk_python):
    outputs = {}
    for package, python in (("hub.sdk", sys.executable), ("secodadk", secodadk_python)):
        script = tmp_path / f"{package.replace('.', '_')}_connector.py"
        script.write_text(SCRIPT_CONNECTOR.format(package=package))
        result = subprocess.run(
            [str(python), str(script), listing_server.url],
            capture_output=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr.decode()
        outputs[package] = result.stdout

    lines = outputs["hub.sdk"].decode().splitlines()
    assert len(lines) == SCRIPT_MODEL_COUNT
    assert all(isinstance(json.loads(line), dict) for line in lines)
    assert outputs["hub.sdk"] == outputs["secodadk"]


# The differences below are the ones docs/sdk-differences.md lists.


def test_import_warns_only_in_secodadk(hub_results, secodadk_results):
    reference = secodadk_results["import_warnings"]
    assert hub_results["import_warnings"] == []
    assert [item["category"] for item in reference] == ["UserWarning"] * 3
    for model in ("Resource", "ExternalTable", "ExternalColumn"):
        expected = f'Field name "schema" in "{model}" shadows an attribute'
        assert any(expected in item["message"] for item in reference), model


def test_integration_extra_attributes(hub_results, secodadk_results):
    ours = set(hub_results["surface"]["integration_attributes"])
    reference = set(secodadk_results["surface"]["integration_attributes"])
    assert ours - reference == {
        "allowed_hosts",
        "check_connection",
        "credential_fields",
        "prepare_sql",
        "sql_dialect",
    }
    assert reference - ours == set()


def test_integration_extra_defaults():
    class Bare(SecodaIntegration):
        def extract(self):
            pass

    assert Bare.credential_fields == ()
    assert Bare.allowed_hosts == ()
    assert Bare.sql_dialect is None
    assert Bare.prepare_sql("select {{ x }}") == "select {{ x }}"
    with pytest.raises(NotImplementedError):
        Bare(credentials={}).check_connection()


def test_star_import_names_differ(hub_results, secodadk_results):
    ours = set(hub_results["surface"]["star_import"])
    reference = set(secodadk_results["surface"]["star_import"])
    assert ours - reference == {
        "AuthenticationError",
        "CredentialField",
        "ENTITY_TYPES",
        "EgressDeniedError",
        "FatalHTTPError",
        "HTTPError",
        "IngestResourcesStrategy",
        "IntegrationError",
        "NetworkCallStrategy",
        "PaginationError",
        "RetriableHTTPError",
        "paginate_cursor",
        "paginate_links",
        "paginate_pages",
    }
    # secodadk has no __all__, so its star import also binds its submodules and
    # the typing helpers its models module imports.
    assert reference - ours == {
        "Annotated",
        "Field",
        "List",
        "Literal",
        "Optional",
        "Union",
        "core",
        "datetime",
        "ingestion_models",
        "pydantic",
        "strats",
    }


def test_strategy_modules_differ(hub_results, secodadk_results):
    assert hub_results["surface"]["strategy_module"] == "hub.sdk.strategies"
    assert hub_results["surface"]["default_strategy_modules"] == ["hub.sdk.strategies"]
    assert secodadk_results["surface"]["strategy_module"] == "secodadk.strats.core"
    assert secodadk_results["surface"]["default_strategy_modules"] == [
        "secodadk.strats.default"
    ]


def test_pooled_strategy_reuses_connection(
    listing_server, hub_results, secodadk_results
):
    # This covers the strategy alone. test_run.py::test_run_keeps_one_connection
    # checks that a real ``hub run`` sends every request through it.
    strategy = PooledNetworkStrategy(allowed_hosts=["127.0.0.1"])
    ports = []
    try:
        for _ in range(PORTS_COUNT):
            response = strategy.make_request("GET", listing_server.url + "/port")
            ports.append(response.json()["client_port"])
    finally:
        strategy.finalize()

    assert len(set(ports)) == 1
    assert len(set(hub_results["connection_ports"])) == PORTS_COUNT
    assert len(set(secodadk_results["connection_ports"])) == PORTS_COUNT


def test_pooled_strategy_applies_allowlist(listing_server):
    strategy = PooledNetworkStrategy(allowed_hosts=["api.example.invalid"])
    served_before = listing_server.requests_served
    try:
        with pytest.raises(EgressDeniedError):
            strategy.make_request("GET", listing_server.url + "/port")
    finally:
        strategy.finalize()

    assert listing_server.requests_served == served_before


def test_custom_strategies_not_carried():
    for name in ("JSONLIngestResourcesStrategy", "EgressServerNetworkCallStrategy"):
        assert not hasattr(hub.sdk, name), name
        assert not hasattr(hub.sdk.strategies, name), name
