"""The real ``secodadk`` 0.0.6 in a throwaway environment, and the probe run on it.

The parity tests import this module to build the environment and start the
probe. Run as a script (``python secodadk_env.py secodadk|hub``), the module is
the probe. It imports one SDK, reads every case as one JSON document on stdin
and writes every result as one JSON document to stdout. The top level imports
only the standard library, so the same file runs under either interpreter and
both SDKs go through identical code.
"""

import importlib
import inspect
import json
import subprocess
import sys
import warnings
from datetime import date, datetime
from pathlib import Path

PROBE = Path(__file__).resolve()

# Where each SDK keeps the public names the probe touches.
SDK_LAYOUTS = {
    "secodadk": {
        "package": "secodadk",
        "strategies": "secodadk.strats.core",
        "defaults": "secodadk.strats.default",
    },
    "hub": {
        "package": "hub.sdk",
        "strategies": "hub.sdk.strategies",
        "defaults": "hub.sdk.strategies",
    },
}

HTTP_METHODS = ("http_get", "http_post", "http_put", "http_patch", "http_delete")

# The URL the canned network strategy pretends to call. Nothing is sent to it.
CANNED_URL = "https://api.example.invalid/v1/items"


def create_secodadk_venv(directory: Path, pydantic_version: str) -> Path:
    """Create a virtual environment with ``secodadk`` 0.0.6 and return its python.

    ``secodadk`` declares pandas, boto3 and mypy-boto3-s3 as dependencies, but
    none of its modules imports them, so it is installed with ``--no-deps``
    next to only what its imports need. Pydantic is pinned to the hub's own
    version (inside secodadk's ``>=2.4.2,<3`` range), so any difference the
    tests find comes from the SDKs and not from two pydantic releases.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", str(directory)], check=True, timeout=300
    )
    python = directory / "bin" / "python"
    _pip(python, "--no-deps", "secodadk==0.0.6")
    _pip(python, f"pydantic=={pydantic_version}", "httpx>=0.26,<0.27")
    _pip(python, "typing_extensions")
    return python


def _pip(python: Path, *requirements: str) -> None:
    command = [str(python), "-m", "pip", "install", "--quiet", *requirements]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(
            f"pip install {' '.join(requirements)} failed with exit code "
            f"{result.returncode}: {result.stderr}"
        )


def run_probe(python: Path, sdk: str, request: dict) -> dict:
    """Run the probe for ``sdk`` under ``python`` and return its results."""
    result = subprocess.run(
        [str(python), str(PROBE), sdk],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"the {sdk} probe under {python} exited with {result.returncode}: "
            f"{result.stderr}"
        )
    return json.loads(result.stdout)


# Everything below runs inside the probe process.


def import_sdk(layout: dict) -> tuple[dict, list[dict]]:
    """Import the SDK's modules, recording every warning the import emits."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        modules = {key: importlib.import_module(name) for key, name in layout.items()}
    emitted = [
        {"category": item.category.__name__, "message": str(item.message)}
        for item in caught
    ]
    return modules, emitted


def build_python_values(data: dict, python_values: dict) -> dict:
    """Replace fields given as ``[kind, text]`` with ``datetime`` or ``date``."""
    built = dict(data)
    for name, (kind, text) in python_values.items():
        if kind == "datetime":
            built[name] = datetime.fromisoformat(text)
        elif kind == "date":
            built[name] = date.fromisoformat(text)
        else:
            raise ValueError(f"python value kind {kind!r} is not datetime or date")
    return built


def validate_case(package, case: dict) -> dict:
    """Validate one case and return its JSON dump or its error locations."""
    import pydantic

    model = getattr(package, case["model"])
    data = build_python_values(case["data"], case.get("python_values", {}))
    try:
        instance = model.model_validate(data)
    except pydantic.ValidationError as error:
        locations = [list(item["loc"]) for item in error.errors()]
        return {"accepted": False, "locations": locations}
    return {"accepted": True, "dump": instance.model_dump(mode="json")}


def strip_descriptions(schema):
    """Drop ``description`` keys, which come from each SDK's own docstrings."""
    if isinstance(schema, dict):
        return {
            key: strip_descriptions(value)
            for key, value in schema.items()
            if key != "description"
        }
    if isinstance(schema, list):
        return [strip_descriptions(value) for value in schema]
    return schema


def describe_signature(function) -> dict:
    signature = inspect.signature(function)
    parameters = [
        [parameter.name, parameter.kind.name, repr(parameter.default)]
        for parameter in signature.parameters.values()
    ]
    annotation = signature.return_annotation
    if annotation is inspect.Signature.empty:
        returns = None
    else:
        returns = getattr(annotation, "__name__", str(annotation))
    return {"parameters": parameters, "returns": returns}


def describe_kwargs(kwargs: dict, auth) -> dict:
    """Return ``make_request`` keyword arguments as JSON, with ``auth`` by identity."""
    described = {}
    for name, value in kwargs.items():
        if name == "auth" and value is not None:
            described[name] = {
                "class": type(value).__name__,
                "same_object": value is auth,
            }
        else:
            described[name] = value
    return described


def build_recorders(modules: dict, calls: list):
    """Build an ingest and a network strategy that append to ``calls``."""
    import httpx

    base = modules["strategies"]

    class RecordingIngest(base.IngestResourcesStrategy):
        def declare_resource(self, resource):
            calls.append(["declare_resource", resource.model_dump(mode="json")])

        def declare_lineage(self, lineage):
            calls.append(["declare_lineage", lineage.model_dump(mode="json")])

        def finalize(self):
            calls.append(["ingest.finalize"])

    class CannedNetwork(base.NetworkCallStrategy):
        auth = None

        def make_request(self, method, url, **kwargs):
            described = describe_kwargs(kwargs, self.auth)
            calls.append(["make_request", method, url, described])
            request = httpx.Request(method, url)
            return httpx.Response(200, json={"name": "canned"}, request=request)

        def finalize(self):
            calls.append(["network.finalize"])

    return RecordingIngest(), CannedNetwork()


def build_connector_class(package, calls: list):
    class RecordingConnector(package.SecodaIntegration):
        def extract(self):
            calls.append(["extract"])
            response = self.http_get(CANNED_URL, headers={"Accept": "json"})
            name = response.json()["name"]
            resource = package.Resource(entity_type="table", databuilder_id=name)
            self.declare_resource(resource)
            lineage = package.DeclaredLineage(
                from_identifier=package.ExternalTable(table="source"),
                to_identifier=package.InternalResource(databuilder_id=name),
            )
            self.declare_lineage(lineage)

    return RecordingConnector


def probe_start(modules: dict) -> list:
    """Run ``start()`` with recording strategies; return the calls in order."""
    calls: list = []
    ingest, network = build_recorders(modules, calls)
    connector_class = build_connector_class(modules["package"], calls)
    connector = connector_class(
        credentials={}, ingest_resources_strategy=ingest, network_call_strategy=network
    )
    connector.start()
    return calls


def probe_http_methods(modules: dict) -> dict:
    """Call each ``http_*`` method with every argument set; record what it sends."""
    import httpx

    calls: list = []
    ingest, network = build_recorders(modules, calls)
    network.auth = httpx.BasicAuth("probe-user", "probe-password")
    connector = build_connector_class(modules["package"], calls)(
        credentials={}, ingest_resources_strategy=ingest, network_call_strategy=network
    )
    results = {}
    for name in HTTP_METHODS:
        arguments = {
            "params": {"page": 2},
            "headers": {"Accept": "application/json"},
            "follow_redirects": True,
            "verify": "/probe/ca-bundle.pem",
            "auth": network.auth,
        }
        if name != "http_get":
            arguments.update(data={"form": "value"}, json={"body": [1, 2]})
        calls.clear()
        response = getattr(connector, name)(CANNED_URL, **arguments)
        results[name] = {
            "calls": list(calls),
            "returns_strategy_response": response.json() == {"name": "canned"},
        }
    return results


def probe_default_network(modules: dict) -> dict:
    """Record what the default network strategy passes to ``httpx.request``."""
    import httpx

    recorded = {}

    def record_request(method, url, **kwargs):
        recorded.update(method=method, url=url, kwargs=describe_kwargs(kwargs, auth))
        return httpx.Response(204, request=httpx.Request(method, url))

    auth = httpx.BasicAuth("probe-user", "probe-password")
    original = httpx.request
    httpx.request = record_request
    try:
        strategy = modules["defaults"].DefaultNetworkCallStrategy()
        strategy.make_request("GET", CANNED_URL, params={"q": "1"}, auth=auth)
    finally:
        httpx.request = original
    return recorded


def probe_connection_ports(modules: dict, url: str, count: int) -> list:
    """Send ``count`` requests through the default strategy and return the ports.

    The test server returns the client's port in each response body, so
    distinct ports mean distinct TCP connections.
    """
    strategy = modules["defaults"].DefaultNetworkCallStrategy()
    ports = []
    for _ in range(count):
        response = strategy.make_request("GET", url)
        ports.append(response.json()["client_port"])
    strategy.finalize()
    return ports


def public_names(module) -> list:
    """Return the names ``from module import *`` binds."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in vars(module) if not name.startswith("_")]
    return sorted(names)


def probe_surface(modules: dict) -> dict:
    """Record the names, signatures and abstract methods the SDK exposes."""
    package = modules["package"]
    integration = package.SecodaIntegration
    base = modules["strategies"]
    return {
        "star_import": public_names(package),
        "integration_attributes": sorted(
            name for name in dir(integration) if not name.startswith("_")
        ),
        "integration_abstract": sorted(integration.__abstractmethods__),
        "ingest_abstract": sorted(base.IngestResourcesStrategy.__abstractmethods__),
        "network_abstract": sorted(base.NetworkCallStrategy.__abstractmethods__),
        "strategy_module": base.IngestResourcesStrategy.__module__,
        "default_strategy_modules": sorted(
            {
                modules["defaults"].DefaultIngestResourcesStrategy.__module__,
                modules["defaults"].DefaultNetworkCallStrategy.__module__,
            }
        ),
        "constructor": describe_signature(integration.__init__),
        "http_signatures": {
            name: describe_signature(getattr(integration, name))
            for name in HTTP_METHODS
        },
        "make_request": describe_signature(base.NetworkCallStrategy.make_request),
    }


def probe_positional_constructor(package) -> bool:
    """Return whether passing the credentials positionally raises ``TypeError``."""

    class Minimal(package.SecodaIntegration):
        def extract(self):
            pass

    try:
        Minimal({})
    except TypeError:
        return True
    return False


def run_all(sdk: str, request: dict) -> dict:
    modules, import_warnings = import_sdk(SDK_LAYOUTS[sdk])
    package = modules["package"]
    cases = request["cases"]
    return {
        "import_warnings": import_warnings,
        "cases": {case["id"]: validate_case(package, case) for case in cases},
        "schemas": {
            name: strip_descriptions(getattr(package, name).model_json_schema())
            for name in request["schema_models"]
        },
        "start_calls": probe_start(modules),
        "http_methods": probe_http_methods(modules),
        "default_network": probe_default_network(modules),
        "connection_ports": probe_connection_ports(
            modules, request["ports_url"], request["ports_count"]
        ),
        "surface": probe_surface(modules),
        "positional_constructor_rejected": probe_positional_constructor(package),
    }


if __name__ == "__main__":
    results = run_all(sys.argv[1], json.load(sys.stdin))
    json.dump(results, sys.stdout)
