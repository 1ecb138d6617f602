"""The connector SDK: exported names, models, strategies and script mode."""

import json
import subprocess
import sys
import textwrap

import httpx
import pytest

import hub.sdk
from hub.sdk import (
    DeclaredLineage,
    ExternalTable,
    InternalResource,
    Resource,
    SecodaIntegration,
    TablesFromSQLQuery,
)
from hub.sdk.strategies import IngestResourcesStrategy, NetworkCallStrategy

SECODADK_NAMES = {
    "SecodaIntegration",
    "Resource",
    "InternalResource",
    "ExternalTable",
    "ExternalColumn",
    "TablesFromSQLQuery",
    "LineageID",
    "DeclaredLineage",
}


def test_exports_every_secodadk_name():
    assert SECODADK_NAMES <= set(hub.sdk.__all__)
    for name in hub.sdk.__all__:
        assert hasattr(hub.sdk, name), name


def test_import_emits_no_warning():
    code = "import warnings; warnings.simplefilter('error'); import hub.sdk"

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_resource_defaults():
    resource = Resource(entity_type="table", databuilder_id="t")

    dumped = resource.model_dump(mode="json")

    assert dumped["title"] == ""
    assert dumped["is_pk"] is False
    assert dumped["hidden"] is False
    assert dumped["schema"] is None
    assert dumped["external_updated_at"] is None


def test_resource_parses_iso_datetime():
    resource = Resource(
        entity_type="dashboard",
        databuilder_id="d",
        external_updated_at="2026-03-01T12:00:00+02:00",
    )

    assert resource.model_dump(mode="json")["external_updated_at"] == (
        "2026-03-01T12:00:00+02:00"
    )


def test_lineage_parses_through_discriminator():
    lineage = DeclaredLineage.model_validate(
        {
            "from_identifier": {"type": "tables_from_query", "sql": "select 1"},
            "to_identifier": {"type": "internal_resource", "databuilder_id": "c"},
        }
    )

    assert isinstance(lineage.from_identifier, TablesFromSQLQuery)
    assert isinstance(lineage.to_identifier, InternalResource)


def test_lineage_rejects_unknown_type():
    with pytest.raises(ValueError):
        DeclaredLineage.model_validate(
            {
                "from_identifier": {"type": "nonsense"},
                "to_identifier": {"type": "internal_resource", "databuilder_id": "c"},
            }
        )


def test_constructor_is_keyword_only():
    class Minimal(SecodaIntegration):
        def extract(self):
            pass

    with pytest.raises(TypeError):
        Minimal({"a": "b"})


class Recorder(IngestResourcesStrategy):
    def __init__(self):
        self.models = []
        self.finalized = False

    def declare_resource(self, resource):
        self.models.append(resource)

    def declare_lineage(self, lineage):
        self.models.append(lineage)

    def finalize(self):
        self.finalized = True


class RecordingNetwork(NetworkCallStrategy):
    def __init__(self):
        self.calls = []

    def make_request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        return httpx.Response(200, json={"ok": True})


class TwoRequests(SecodaIntegration):
    def extract(self):
        auth = httpx.BasicAuth("user", "secret")
        self.http_get("https://example.test/a", params={"page": 1})
        self.http_put("https://example.test/b", json={"x": 1}, auth=auth)
        self.declare_resource(Resource(entity_type="table", databuilder_id="t"))
        self.declare_lineage(
            DeclaredLineage(
                from_identifier=ExternalTable(table="orders"),
                to_identifier=InternalResource(databuilder_id="t"),
            )
        )


def test_custom_strategies_are_honoured():
    ingest, network = Recorder(), RecordingNetwork()

    TwoRequests(
        credentials={}, ingest_resources_strategy=ingest, network_call_strategy=network
    ).start()

    assert [type(model).__name__ for model in ingest.models] == [
        "Resource",
        "DeclaredLineage",
    ]
    assert ingest.finalized
    assert [call[:2] for call in network.calls] == [
        ("GET", "https://example.test/a"),
        ("PUT", "https://example.test/b"),
    ]
    assert network.calls[0][2]["params"] == {"page": 1}


def test_http_put_keeps_auth():
    network = RecordingNetwork()

    TwoRequests(
        credentials={},
        ingest_resources_strategy=Recorder(),
        network_call_strategy=network,
    ).start()

    assert isinstance(network.calls[1][2]["auth"], httpx.BasicAuth)


SCRIPT = textwrap.dedent(
    """
    from hub.sdk import DeclaredLineage, InternalResource, Resource, SecodaIntegration


    class Script(SecodaIntegration):
        def extract(self):
            self.declare_resource(
                Resource(entity_type="dashboard", databuilder_id="d1", title="One")
            )
            self.declare_lineage(
                DeclaredLineage(
                    from_identifier=InternalResource(databuilder_id="d1"),
                    to_identifier=InternalResource(databuilder_id="g"),
                )
            )


    if __name__ == "__main__":
        Script(credentials={}).start()
    """
)


def test_script_mode_prints_json_lines(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    assert lines[0]["databuilder_id"] == "d1"
    assert lines[0]["description"] is None
    assert lines[1]["to_identifier"] == {
        "type": "internal_resource",
        "databuilder_id": "g",
    }
