"""The `registry` commands and `install` checks, driven through CliRunner."""

import functools
import hashlib
import json
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import importlib_metadata
import pytest
from click.testing import CliRunner

from conftest import REPOSITORY, local_http_server, run_hub_process
from hub.cli.registry import install_command, registry_group, uninstall_command

CLUVIO_WHEEL = next((REPOSITORY / "wheels").glob("secoda_connector_cluvio-*.whl"))


def invoke(command, *args: str):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def version_entry(version, wheel: Path, status="published", sha256=None) -> dict:
    return {
        "version": version,
        "sha256": sha256 or hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "wheel": {"path": f"wheels/{wheel.name}"},
        "published_at": "2026-01-02T03:04:05Z",
        "status": status,
    }


def write_registry(directory: Path, connectors: list[dict]) -> Path:
    path = directory / "registry.json"
    path.write_text(json.dumps({"schema_version": 1, "connectors": connectors}))
    return path


def entry(name: str, versions: list[dict], **extra) -> dict:
    return {
        "name": name,
        "title": name.title(),
        "description": f"Extracts {name} dashboards.",
        "category": "bi",
        "distribution": f"secoda-connector-{name}",
        "license": "MIT",
        "tags": ["community"],
        "versions": versions,
        **extra,
    }


@pytest.fixture
def registry_dir(tmp_path) -> Path:
    (tmp_path / "wheels").mkdir()
    shutil.copy(CLUVIO_WHEEL, tmp_path / "wheels" / CLUVIO_WHEEL.name)
    return tmp_path


@pytest.fixture
def registry_file(registry_dir) -> Path:
    wheel = registry_dir / "wheels" / CLUVIO_WHEEL.name
    return write_registry(
        registry_dir,
        [
            entry(
                "cluvio",
                [
                    version_entry("0.1.0", wheel),
                    version_entry("0.2.0", wheel, status="in_review"),
                    version_entry("9.0.0", wheel),
                ],
            ),
            entry("warehouse", [version_entry("1.0.0", wheel, status="draft")]),
        ],
    )


def listed(*args: str) -> dict[str, dict]:
    result = invoke(registry_group, "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


def test_list_marks_installed_and_update(registry_file):
    rows = listed("--registry", str(registry_file))

    assert rows["cluvio"]["installed"] == "0.1.0"
    assert rows["cluvio"]["latest"] == "9.0.0"
    assert rows["cluvio"]["update"] is True
    assert rows["warehouse"]["installed"] is None
    assert rows["warehouse"]["latest"] is None


def test_list_table_has_headers(registry_file):
    result = invoke(registry_group, "list", "--registry", str(registry_file))

    assert result.output.splitlines()[0].split() == [
        "NAME",
        "TITLE",
        "LATEST",
        "INSTALLED",
        "UPDATE",
        "CATEGORY",
        "TAGS",
    ]
    assert "cluvio" in result.output


def test_search_matches_description(registry_file):
    result = invoke(
        registry_group,
        "search",
        "WAREHOUSE",
        "--json",
        "--registry",
        str(registry_file),
    )

    assert [row["name"] for row in json.loads(result.output)] == ["warehouse"]


def test_show_names_winning_registry(registry_file, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    second = write_registry(other, [entry("cluvio", [], title="Shadowed")])

    result = invoke(
        registry_group,
        "show",
        "cluvio",
        "--json",
        "--registry",
        str(registry_file),
        "--registry",
        str(second),
    )
    data = json.loads(result.output)

    assert data["registry"] == str(registry_file)
    assert data["also_in"] == [str(second)]
    assert data["title"] == "Cluvio"


def test_show_unknown_name_fails(registry_file):
    result = invoke(registry_group, "show", "nope", "--registry", str(registry_file))

    assert result.exit_code == 2
    assert "no registry lists a connector named 'nope'" in result.output


def test_bracket_registry_names_file(tmp_path, hub, monkeypatch, cluvio_credentials):
    broken = tmp_path / "registry.json"
    broken.write_text("[")
    monkeypatch.setenv("SECODA_HUB_REGISTRY", str(broken))

    result = invoke(registry_group, "list")
    installed = hub("list", "--json")
    run = hub("run", "cluvio", "--json")

    assert result.exit_code == 2
    assert f"registry {broken} is not valid JSON" in result.output
    assert installed.exit_code == 0
    assert "cluvio" in {row["name"] for row in json.loads(installed.output)}
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["status"] == "succeeded"


def test_review_approves_version(registry_file):
    result = invoke(
        registry_group,
        "review",
        "cluvio",
        "0.2.0",
        "--approve",
        "--reason",
        "looks right",
        "--registry",
        str(registry_file),
    )
    stored = json.loads(registry_file.read_text())["connectors"][0]["versions"][1]

    assert result.exit_code == 0, result.output
    assert stored["status"] == "published"
    assert stored["review_reason"] == "looks right"


def test_yank_then_review_refused(registry_file):
    yanked = invoke(
        registry_group,
        "yank",
        "cluvio",
        "9.0.0",
        "--reason",
        "breaks sign-in",
        "--registry",
        str(registry_file),
    )
    review = invoke(
        registry_group,
        "review",
        "cluvio",
        "9.0.0",
        "--approve",
        "--reason",
        "x",
        "--registry",
        str(registry_file),
    )

    assert yanked.exit_code == 0, yanked.output
    assert listed("--registry", str(registry_file))["cluvio"]["latest"] == "0.1.0"
    assert review.exit_code == 2
    assert "is yanked" in review.output


def test_review_unknown_version_lists_held(registry_file):
    result = invoke(
        registry_group,
        "review",
        "cluvio",
        "3.0",
        "--reject",
        "--reason",
        "x",
        "--registry",
        str(registry_file),
    )

    assert result.exit_code == 2
    assert "versions: 0.1.0, 0.2.0, 9.0.0" in result.output


def test_validate_passes_clean_file(registry_file):
    result = invoke(registry_group, "validate", str(registry_file), "--no-rebuild")

    assert result.exit_code == 0, result.output
    assert "is valid" in result.output


def test_validate_reports_broken_rules(registry_dir):
    wheel = registry_dir / "wheels" / CLUVIO_WHEEL.name
    path = write_registry(
        registry_dir,
        [
            entry(
                "alpha", [version_entry("1.0", wheel), version_entry("1.0.0", wheel)]
            ),
            entry("alpha", []),
            entry("beta", [version_entry("1.0.0", wheel, sha256="0" * 64)]),
            entry(
                "gamma",
                [version_entry("1.0.0", registry_dir / "gone.whl", "draft", "1" * 64)],
            ),
        ],
    )

    result = invoke(registry_group, "validate", str(path), "--no-rebuild")

    assert result.exit_code == 1
    assert "connector name 'alpha' appears 2 times" in result.output
    assert "alpha lists version 1.0 2 times" in result.output
    assert "the registry records 0000" in result.output
    assert "gone.whl is missing" in result.output


def escaping_wheel_paths(registry_dir: Path) -> dict[str, str]:
    """Place the real Cluvio wheel beside ``registry_dir``; name it three ways."""
    outside = registry_dir.parent / "outside"
    outside.mkdir()
    target = outside / CLUVIO_WHEEL.name
    shutil.copy(CLUVIO_WHEEL, target)
    (registry_dir / "wheels").mkdir(parents=True)
    (registry_dir / "wheels" / "link.whl").symlink_to(target)
    return {
        "dot-dot": f"../outside/{CLUVIO_WHEEL.name}",
        "absolute": str(target),
        "symlink": "wheels/link.whl",
    }


@pytest.mark.parametrize("case", ["dot-dot", "absolute", "symlink"])
def test_validate_rejects_escaping_wheel(case, tmp_path):
    registry_dir = tmp_path / "registry"
    relative = escaping_wheel_paths(registry_dir)[case]
    # The sha256 is right, so reading the outside file would pass the check.
    version = {**version_entry("1.0.0", CLUVIO_WHEEL), "wheel": {"path": relative}}
    path = write_registry(registry_dir, [entry("outside", [version])])

    result = run_hub_process("registry", "validate", str(path), "--no-rebuild")

    assert result.returncode == 1
    assert f"invalid: outside 1.0.0: wheel path {relative!r}" in result.stderr
    assert "must stay inside the registry's directory" in result.stderr
    assert "is valid" not in result.stdout


@pytest.mark.parametrize("case", ["dot-dot", "absolute", "symlink"])
def test_install_rejects_escaping_wheel(case, tmp_path):
    registry_dir = tmp_path / "registry"
    relative = escaping_wheel_paths(registry_dir)[case]
    # A wrong sha256, so that an install that read the file would stop there.
    version = {
        **version_entry("1.0.0", CLUVIO_WHEEL, sha256="0" * 64),
        "wheel": {"path": relative},
    }
    path = write_registry(registry_dir, [entry("outside", [version])])

    result = run_hub_process("install", "outside", "--registry", str(path))

    assert result.returncode == 2
    assert f"Error: outside 1.0.0: wheel path {relative!r}" in result.stderr
    assert "has sha256" not in result.stderr
    with pytest.raises(importlib_metadata.PackageNotFoundError):
        importlib_metadata.distribution("secoda-connector-outside")


def test_validate_missing_file_names_it(tmp_path):
    missing = tmp_path / "nowhere.json"

    result = invoke(registry_group, "validate", str(missing), "--no-rebuild")

    assert result.exit_code == 2
    assert f"registry file {missing} does not exist" in result.output


class QuietFileHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def wheel_server(tmp_path):
    """Serve ``tmp_path/served`` over HTTP on 127.0.0.1; yield (folder, URL)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietFileHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}
    )
    thread.start()
    try:
        yield served, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.mark.parametrize(
    "args",
    [
        ["registry", "list"],
        ["registry", "search", "cluvio"],
        ["registry", "show", "cluvio"],
        ["install", "nothing"],
    ],
    ids=["list", "search", "show", "install"],
)
def test_unreachable_registry_warns_once(args, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(REPOSITORY / "registry.json", served / "registry.json")
    handler = functools.partial(QuietFileHandler, directory=str(served))
    with local_http_server(handler) as base:
        url = f"{base}/registry.json"
        online = run_hub_process("registry", "list", "--registry", url)

    offline = run_hub_process(*args, "--registry", url, "--registry", url)

    assert online.returncode == 0, online.stderr
    assert "unreachable" not in online.stderr
    assert offline.stderr.count("unreachable") == 1
    assert (
        f"warning: registry {url} is unreachable (ConnectError); using the copy "
        "cached" in offline.stderr
    )


def url_version(version: str, url: str, sha256: str) -> dict:
    return {
        "version": version,
        "sha256": sha256,
        "wheel": {"url": url},
        "published_at": "2026-01-02T03:04:05Z",
        "status": "published",
    }


def test_validate_downloads_url_wheels(tmp_path, wheel_server):
    served, base = wheel_server
    good = served / CLUVIO_WHEEL.name
    shutil.copy(CLUVIO_WHEEL, good)
    tampered = served / "tampered-1.0.0-py3-none-any.whl"
    tampered.write_bytes(CLUVIO_WHEEL.read_bytes() + b"tampered")
    recorded = hashlib.sha256(CLUVIO_WHEEL.read_bytes()).hexdigest()
    actual = hashlib.sha256(tampered.read_bytes()).hexdigest()
    path = write_registry(
        tmp_path,
        [
            entry("good", [url_version("1.0.0", f"{base}/{good.name}", recorded)]),
            entry("gone", [url_version("1.0.0", f"{base}/gone.whl", recorded)]),
            entry(
                "tampered",
                [url_version("1.0.0", f"{base}/{tampered.name}", recorded)],
            ),
        ],
    )

    result = invoke(registry_group, "validate", str(path), "--no-rebuild")

    assert result.exit_code == 1
    assert "good" not in result.output
    assert "gone 1.0.0: fetching the wheel failed" in result.output
    assert "404" in result.output
    assert f"tampered 1.0.0: {base}/{tampered.name} has sha256 {actual}" in (
        result.output
    )
    assert f"the registry records {recorded}" in result.output


def test_validate_downloads_index_wheels(tmp_path, wheel_server):
    served, base = wheel_server
    project = served / "simple" / "secoda-connector-cluvio"
    project.mkdir(parents=True)
    shutil.copy(CLUVIO_WHEEL, project / CLUVIO_WHEEL.name)
    recorded = hashlib.sha256(CLUVIO_WHEEL.read_bytes()).hexdigest()
    version = {
        **url_version("0.1.0", "unused", recorded),
        "wheel": {"index": f"{base}/simple"},
    }
    path = write_registry(tmp_path, [entry("cluvio", [version])])

    valid = invoke(registry_group, "validate", str(path), "--no-rebuild")
    version["sha256"] = "0" * 64
    write_registry(tmp_path, [entry("cluvio", [version])])
    invalid = invoke(registry_group, "validate", str(path), "--no-rebuild")

    assert valid.exit_code == 0, valid.output
    assert invalid.exit_code == 1
    assert f"cluvio 0.1.0: index {base}/simple has sha256 {recorded}" in (
        invalid.output
    )


def test_install_rejects_tampered_wheel(registry_dir):
    wheel = registry_dir / "wheels" / CLUVIO_WHEEL.name
    recorded = hashlib.sha256(wheel.read_bytes()).hexdigest()
    path = write_registry(
        registry_dir,
        [entry("tampered", [version_entry("1.0.0", wheel, sha256=recorded)])],
    )
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    actual = hashlib.sha256(wheel.read_bytes()).hexdigest()

    result = invoke(install_command, "tampered", "--registry", str(path))

    assert result.exit_code == 1
    assert f"has sha256 {actual}" in result.output
    assert f"the registry expects {recorded}" in result.output
    assert "nothing was installed" in result.output
    with pytest.raises(importlib_metadata.PackageNotFoundError):
        importlib_metadata.distribution("secoda-connector-tampered")


@pytest.mark.parametrize("where", ["wheel-url", "registry-url"])
def test_install_rejects_tampered_download(tmp_path, wheel_server, where):
    served, base = wheel_server
    (served / "wheels").mkdir()
    wheel = served / "wheels" / CLUVIO_WHEEL.name
    wheel.write_bytes(CLUVIO_WHEEL.read_bytes() + b"tampered")
    recorded = hashlib.sha256(CLUVIO_WHEEL.read_bytes()).hexdigest()
    if where == "wheel-url":
        version = url_version("1.0.0", f"{base}/wheels/{wheel.name}", recorded)
        registry = str(write_registry(tmp_path, [entry("tampered", [version])]))
    else:
        # A path in a registry read over HTTP is relative to the registry's URL.
        version = version_entry("1.0.0", CLUVIO_WHEEL, sha256=recorded)
        write_registry(served, [entry("tampered", [version])])
        registry = f"{base}/registry.json"

    result = invoke(install_command, "tampered", "--registry", registry)

    assert result.exit_code == 1, result.output
    assert f"{wheel.name} has sha256" in result.output
    assert f"the registry expects {recorded}" in result.output
    assert "nothing was installed" in result.output
    with pytest.raises(importlib_metadata.PackageNotFoundError):
        importlib_metadata.distribution("secoda-connector-tampered")


def test_install_refuses_unreviewed(registry_file):
    result = invoke(install_command, "warehouse", "--registry", str(registry_file))

    assert result.exit_code == 2
    assert "has no published version" in result.output
    assert "--allow-unreviewed" in result.output


def test_install_names_yanked_and_unreviewed(registry_dir):
    wheel = registry_dir / "wheels" / CLUVIO_WHEEL.name
    yanked = {**version_entry("0.2.0", wheel, "yanked"), "review_reason": "broken"}
    path = write_registry(
        registry_dir, [entry("mixed", [version_entry("0.1.0", wheel, "draft"), yanked])]
    )

    result = invoke(install_command, "mixed", "--registry", str(path))

    assert result.exit_code == 2
    assert (
        "mixed has no published version (0.2.0 is yanked: broken, 0.1.0 is draft)"
        in result.output
    )
    assert "pass --allow-unreviewed to install the newest draft" in result.output
    assert "`hub install mixed --version 0.2.0`" in result.output


def test_install_refuses_pinned_review(registry_file):
    result = invoke(
        install_command,
        "cluvio",
        "--version",
        "0.2.0",
        "--registry",
        str(registry_file),
    )

    assert result.exit_code == 2
    assert "cluvio 0.2.0 is in_review, not published" in result.output


def test_install_checks_hub_requirement(registry_dir):
    wheel = registry_dir / "wheels" / CLUVIO_WHEEL.name
    future = {**version_entry("1.0.0", wheel), "requires_hub": ">=99"}
    path = write_registry(registry_dir, [entry("future", [future])])

    result = invoke(install_command, "future", "--registry", str(path))

    assert result.exit_code == 2
    assert "requires secoda-hub >=99" in result.output


def test_uninstall_distribution_name_hint():
    # Fails before pip runs, so the test environment keeps the connector.
    result = CliRunner().invoke(uninstall_command, ["secoda-connector-cluvio"])

    assert result.exit_code == 2
    assert result.output == (
        "Error: secoda-connector-cluvio is the distribution of connector "
        "'cluvio'; run `hub uninstall cluvio`\n"
    )
    assert importlib_metadata.distribution("secoda-connector-cluvio")
