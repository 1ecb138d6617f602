"""Which registry file the writing commands change, and the files they write.

`hub publish`, `hub registry review` and `hub registry yank` change only a
registry file that the user names. These tests run the real `hub` command
and compare the shipped registry byte for byte. Versions typed on the command
line are checked against PEP 440, and Ctrl-C gives exit status 130.
"""

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import hub
from conftest import local_http_server, run_hub_process
from hub.errors import ConfigurationError
from hub.registry import Registry, RegistryConnector, write_registry_file
from hub.registry.sources import shipped_registry_path

PACKAGE_REGISTRY = Path(hub.__file__).resolve().parent / "registry.json"


def write_commands(project: Path) -> dict[str, list[str]]:
    """Each command that changes a registry, with every argument but --registry."""
    return {
        "publish": ["publish", str(project)],
        "review": ["registry", "review", "cluvio", "0.1.0", "--approve"]
        + ["--reason", "checked"],
        "yank": ["registry", "yank", "cluvio", "0.1.0", "--reason", "broken"],
    }


def file_state(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


def copy_of_shipped_registry(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    copy = directory / "registry.json"
    copy.write_bytes(shipped_registry_path().read_bytes())
    return copy


@pytest.mark.parametrize("command", ["publish", "review", "yank"])
def test_write_without_registry_rejected(command, tmp_path):
    shipped = shipped_registry_path()
    before = file_state(shipped)

    result = run_hub_process(*write_commands(tmp_path)[command])

    assert result.returncode == 2
    assert "no registry file is named" in result.stderr
    assert "pass --registry FILE" in result.stderr
    assert "Traceback" not in result.stderr
    assert file_state(shipped) == before


@pytest.mark.parametrize("command", ["publish", "review", "yank"])
def test_write_to_package_registry_rejected(command, tmp_path):
    arguments = write_commands(tmp_path)[command]
    existed = PACKAGE_REGISTRY.exists()

    result = run_hub_process(*arguments, "--registry", str(PACKAGE_REGISTRY))

    assert result.returncode == 2
    assert "is inside the installed hub package" in result.stderr
    assert "pass --registry FILE with a registry of your own" in result.stderr
    assert PACKAGE_REGISTRY.exists() == existed


@pytest.mark.parametrize("command", ["publish", "review", "yank"])
def test_write_to_url_rejected(command, tmp_path):
    url = "http://127.0.0.1:9/registry.json"
    arguments = write_commands(tmp_path)[command]

    result = run_hub_process(*arguments, "--registry", url, cwd=tmp_path)

    assert result.returncode == 2
    assert f"registry {url} is a URL" in result.stderr
    assert "path of a local copy" in result.stderr
    # A URL taken for a path would have created http:/127.0.0.1:9/ here.
    assert not (tmp_path / "http:").exists()


def test_write_env_with_two_registries_rejected(tmp_path):
    first = copy_of_shipped_registry(tmp_path / "first")
    second = copy_of_shipped_registry(tmp_path / "second")
    before = first.read_bytes()

    result = run_hub_process(
        *write_commands(tmp_path)["yank"],
        env={"SECODA_HUB_REGISTRY": f"{first},{second}"},
    )

    assert result.returncode == 2
    assert "SECODA_HUB_REGISTRY names 2 registries" in result.stderr
    assert "pass --registry FILE to choose the one to change" in result.stderr
    assert first.read_bytes() == before
    assert second.read_bytes() == before


def test_write_env_with_one_registry_used(tmp_path):
    registry = copy_of_shipped_registry(tmp_path / "market")

    result = run_hub_process(
        *write_commands(tmp_path)["yank"],
        env={"SECODA_HUB_REGISTRY": str(registry)},
    )

    [cluvio] = json.loads(registry.read_text())["connectors"]
    assert result.returncode == 0, result.stderr
    assert f"is now yanked in {registry}" in result.stdout
    assert cluvio["versions"][0]["status"] == "yanked"


@pytest.mark.parametrize(
    ("umask", "mode"),
    [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)],
    ids=["022", "002", "077"],
)
def test_registry_mode_follows_umask(umask, mode, tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text("{}")
    os.chmod(registry, 0o600)

    previous = os.umask(umask)
    try:
        write_registry_file(registry, Registry())
    finally:
        os.umask(previous)

    assert stat.S_IMODE(registry.stat().st_mode) == mode
    assert json.loads(registry.read_text())["connectors"] == []
    assert [path.name for path in tmp_path.iterdir()] == ["registry.json"]


def test_review_mode_follows_umask(tmp_path):
    registry = copy_of_shipped_registry(tmp_path)
    os.chmod(registry, 0o600)
    review = write_commands(tmp_path)["review"]

    result = run_hub_process(*review, "--registry", str(registry), umask=0o022)

    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(registry.stat().st_mode) == 0o644


@pytest.mark.parametrize(
    "arguments",
    [
        ["install", "cluvio", "--version", "not a version"],
        ["registry", "review", "cluvio", "not a version", "--approve"]
        + ["--reason", "checked"],
        ["registry", "yank", "cluvio", "not a version", "--reason", "broken"],
    ],
    ids=["install", "review", "yank"],
)
def test_invalid_version_is_usage_error(arguments, tmp_path):
    registry = copy_of_shipped_registry(tmp_path)
    before = registry.read_bytes()

    result = run_hub_process(*arguments, "--registry", str(registry))

    assert result.returncode == 2
    assert "version 'not a version' is not a PEP 440 version" in result.stderr
    assert "Traceback" not in result.stderr
    assert registry.read_bytes() == before


def test_find_version_rejects_invalid():
    connector = RegistryConnector(
        name="sample",
        title="Sample",
        description="A sample.",
        category="bi",
        distribution="secoda-connector-sample",
        license="MIT",
    )

    with pytest.raises(ConfigurationError, match="is not a PEP 440 version"):
        connector.find_version("bad ver")


def stalling_wheel_handler(requested: threading.Event, release: threading.Event):
    """A handler that starts sending a wheel and then waits for ``release``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"PK")
            self.wfile.flush()
            requested.set()
            release.wait(60)

        def log_message(self, format, *args):
            pass

    return Handler


def stalled_install_registry(directory: Path, base_url: str) -> Path:
    registry = json.loads(shipped_registry_path().read_text())
    [cluvio] = registry["connectors"]
    cluvio["versions"] = cluvio["versions"][:1]
    cluvio["versions"][0]["wheel"] = {"url": f"{base_url}/cluvio.whl"}
    path = directory / "registry.json"
    path.write_text(json.dumps(registry))
    return path


def test_interrupted_install_exits_130(tmp_path):
    requested, release = threading.Event(), threading.Event()
    handler = stalling_wheel_handler(requested, release)
    with contextlib.ExitStack() as stack:
        base_url = stack.enter_context(local_http_server(handler))
        stack.callback(release.set)
        registry = stalled_install_registry(tmp_path, base_url)
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("hub")), "install", "cluvio"]
            + ["--registry", str(registry)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stack.callback(process.kill)
        assert requested.wait(60), "the hub never requested the wheel"
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)

    assert process.returncode == 130
    assert stderr == (
        "Error: interrupted; run `hub list` to see which connectors are installed\n"
    )
    assert stdout == ""
