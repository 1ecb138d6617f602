"""Registry documents: schema, stable writing, atomic replace, sources and cache."""

import hashlib
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conftest import REPOSITORY
from hub.errors import RegistryError
from hub.registry import schema_document
from hub.registry.document import (
    dump_registry,
    parse_registry,
    read_registry_file,
    write_registry_file,
)
from hub.registry.models import Registry, Status
from hub.registry.sources import (
    configured_locations,
    load_registries,
    load_registry,
    resolve,
    shipped_registry_path,
)
from hub.registry.wheelpath import stored_wheel_url


def version_entry(version: str, status: str = "published", sha: str = "a") -> dict:
    return {
        "version": version,
        "sha256": (sha * 64)[:64],
        "wheel": {"path": f"wheels/x-{version}-py3-none-any.whl"},
        "published_at": "2026-01-02T03:04:05Z",
        "status": status,
    }


def connector_entry(name: str, *versions: dict, title: str = "") -> dict:
    return {
        "name": name,
        "title": title or name.title(),
        "description": f"The {name} connector.",
        "category": "bi",
        "distribution": f"secoda-connector-{name}",
        "license": "MIT",
        "versions": list(versions),
    }


def write_document(path: Path, *connectors: dict) -> Path:
    path.write_text(json.dumps({"schema_version": 1, "connectors": list(connectors)}))
    return path


def test_committed_schema_matches_export():
    committed = json.loads((REPOSITORY / "docs" / "registry.schema.json").read_text())

    assert committed == schema_document()


def test_repository_registry_lists_cluvio():
    registry = read_registry_file(REPOSITORY / "registry.json")

    cluvio = registry.get("cluvio")
    assert cluvio is not None
    assert cluvio.latest() is not None
    assert (REPOSITORY / cluvio.latest().wheel.path).is_file()


def test_dump_sorts_names_and_versions(tmp_path):
    path = write_document(
        tmp_path / "registry.json",
        connector_entry("zeta", version_entry("1.10.0"), version_entry("1.9.0")),
        connector_entry("alpha", version_entry("2.0.0rc1"), version_entry("2.0.0")),
    )
    text = dump_registry(read_registry_file(path))
    data = json.loads(text)

    assert [item["name"] for item in data["connectors"]] == ["alpha", "zeta"]
    assert [v["version"] for v in data["connectors"][0]["versions"]] == [
        "2.0.0rc1",
        "2.0.0",
    ]
    assert [v["version"] for v in data["connectors"][1]["versions"]] == [
        "1.9.0",
        "1.10.0",
    ]
    assert text.endswith("}\n")
    assert '\n  "connectors": [\n    {\n      "name": "alpha"' in text


def test_dump_round_trips_unchanged(tmp_path):
    path = write_document(
        tmp_path / "registry.json", connector_entry("alpha", version_entry("1.0.0"))
    )
    first = dump_registry(read_registry_file(path))

    assert dump_registry(parse_registry(first, "memory")) == first


def test_bracket_file_names_the_file(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text("[")

    with pytest.raises(RegistryError, match=f"registry {path} is not valid JSON"):
        read_registry_file(path)


def test_array_document_is_rejected(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text("[]")

    with pytest.raises(RegistryError, match="contains a JSON list"):
        read_registry_file(path)


def test_unknown_schema_version_rejected():
    with pytest.raises(RegistryError, match="schema_version 7"):
        parse_registry('{"schema_version": 7, "connectors": []}', "x.json")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("version", "one", "not a PEP 440 version"),
        ("sha256", "abc", "String should match pattern"),
        ("status", "approved", "Input should be"),
        ("wheel", {"path": "a.whl", "url": "https://x.test/a.whl"}, "exactly one"),
    ],
    ids=["version", "sha256", "status", "two-sources"],
)
def test_invalid_version_fields_rejected(field, value, message):
    version = {**version_entry("1.0.0"), field: value}
    text = json.dumps(
        {"schema_version": 1, "connectors": [connector_entry("alpha", version)]}
    )

    with pytest.raises(RegistryError, match=message):
        parse_registry(text, "x.json")


def test_failed_write_keeps_old_bytes(tmp_path, monkeypatch):
    path = write_document(
        tmp_path / "registry.json", connector_entry("alpha", version_entry("1.0.0"))
    )
    before = path.read_bytes()
    registry = read_registry_file(path)
    registry.connectors[0].versions[0].status = Status.YANKED

    def failing_fsync(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_registry_file(path, registry)

    assert path.read_bytes() == before
    assert sorted(item.name for item in tmp_path.iterdir()) == ["registry.json"]


def test_environment_lists_several(monkeypatch):
    monkeypatch.setenv("SECODA_HUB_REGISTRY", "a.json, https://x.test/r.json  b.json")

    assert configured_locations() == ["a.json", "https://x.test/r.json", "b.json"]


def test_options_override_environment(monkeypatch):
    monkeypatch.setenv("SECODA_HUB_REGISTRY", "a.json")

    assert configured_locations(("c.json",)) == ["c.json"]


def test_default_is_shipped_registry():
    assert configured_locations() == [str(shipped_registry_path())]
    assert shipped_registry_path().is_file()


def test_first_registry_wins(tmp_path):
    first = write_document(
        tmp_path / "first.json",
        connector_entry("alpha", version_entry("1.0.0"), title="First"),
    )
    second = write_document(
        tmp_path / "second.json",
        connector_entry("alpha", version_entry("9.0.0"), title="Second"),
        connector_entry("beta", version_entry("1.0.0")),
    )
    loaded = load_registries([str(first), str(second)])

    alpha = resolve(loaded, "alpha")
    beta = resolve(loaded, "beta")
    assert alpha.connector.title == "First"
    assert alpha.source.origin == str(first)
    assert alpha.shadowed == (str(second),)
    assert beta.source.origin == str(second)


class RegistryHandler(BaseHTTPRequestHandler):
    body = b""
    requests: list = []

    def do_GET(self):
        etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'
        conditional = self.headers.get("If-None-Match")
        type(self).requests.append(conditional)
        if conditional == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def registry_server():
    handler = type("Handler", (RegistryHandler,), {"requests": []})
    document = {
        "schema_version": 1,
        "connectors": [connector_entry("remote", version_entry("1.0.0"))],
    }
    handler.body = json.dumps(document).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        yield server, handler, f"http://127.0.0.1:{server.server_address[1]}/r.json"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def test_url_fetch_then_not_modified(registry_server):
    _, handler, url = registry_server

    first = load_registry(url)
    second = load_registry(url)

    assert first.registry.get("remote") is not None
    assert second.registry == first.registry
    assert handler.requests[0] is None
    assert handler.requests[1] is not None
    assert second.stale_seconds is None


def test_url_offline_uses_cache(registry_server, caplog):
    server, _, url = registry_server
    load_registry(url)
    server.shutdown()
    server.server_close()

    with caplog.at_level(logging.INFO, logger="hub.registry.sources"):
        offline = load_registry(url)

    assert offline.registry.get("remote") is not None
    assert offline.stale_seconds is not None
    assert offline.fetch_error == "ConnectError"
    assert "using the copy cached 0 s ago" in caplog.text


def test_url_offline_without_cache(registry_server):
    server, _, url = registry_server
    server.shutdown()
    server.server_close()

    with pytest.raises(RegistryError, match="no cached copy exists"):
        load_registry(url)


def test_registry_model_defaults():
    assert Registry().schema_version == 1
    assert Registry().connectors == []


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("../x.whl", "contains '..'"),
        ("wheels/../../x.whl", "contains '..'"),
        ("%2e%2e/x.whl", "contains '..'"),
        ("/x.whl", "is absolute"),
        ("//other.example/x.whl", "is a URL"),
        ("https://other.example/x.whl", "is a URL"),
        ("wheels\\x.whl", "contains a backslash"),
    ],
    ids=["parent", "nested-parent", "encoded", "absolute", "other-host", "url", "bs"],
)
def test_wheel_url_outside_rejected(relative, reason):
    with pytest.raises(RegistryError) as caught:
        stored_wheel_url("https://registry.example/r/registry.json", relative, "x 1")

    assert f"x 1: wheel path {relative!r} {reason}" in str(caught.value)


def test_wheel_url_beside_registry():
    url = stored_wheel_url(
        "https://registry.example/r/registry.json", "wheels/x-1.whl", "x 1"
    )

    assert url == "https://registry.example/r/wheels/x-1.whl"
