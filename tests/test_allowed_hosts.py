"""Hosts a user allows with ``hub credentials set --allow-host``, in a real process."""

import json
import textwrap

import pytest

from conftest import run_hub_process

METADATA_WARNING = "is a link-local or cloud metadata address"


@pytest.mark.parametrize("host", ["*.com", "*.COM:443", "*.localhost"])
def test_top_level_wildcard_rejected(hub_home, host):
    result = run_hub_process("credentials", "set", "cluvio", "--allow-host", host)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "is too broad: a wildcard needs at least two labels after '*.'" in (
        result.stderr
    )
    assert "would allow every host under a top-level domain" in result.stderr
    assert not (hub_home / "config" / "credentials.json").exists()


@pytest.mark.parametrize("host", ["*.example.com", "*.co.uk"])
def test_two_label_wildcard_stored(host):
    result = run_hub_process("credentials", "set", "cluvio", "--allow-host", host)

    assert result.returncode == 0, result.stderr
    assert f"Allowed hosts: {host}" in result.stdout


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "169.254.169.254:80", "[fe80::1]", "metadata"]
)
def test_metadata_host_stored_with_warning(host):
    first = run_hub_process("credentials", "set", "cluvio", "--allow-host", host)
    again = run_hub_process("credentials", "set", "cluvio", "--allow-host", host)

    assert first.returncode == 0, first.stderr
    assert f"Allowed hosts: {host}" in first.stdout
    assert f"allowed host {host} {METADATA_WARNING}" in first.stderr
    # Only a newly added host is warned about.
    assert again.returncode == 0, again.stderr
    assert METADATA_WARNING not in again.stderr


def test_ordinary_host_has_no_warning():
    result = run_hub_process(
        "credentials", "set", "cluvio", "--allow-host", "127.0.0.1:8080"
    )

    assert result.returncode == 0, result.stderr
    assert METADATA_WARNING not in result.stderr


# Declares an allowlist entry that no egress check could apply.
BROAD_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import SecodaIntegration


    class Broad(SecodaIntegration):
        allowed_hosts = ("*.com",)

        def extract(self):
            pass
    """
)


def test_declared_broad_wildcard_fails_load(tmp_path, hub_home):
    path = tmp_path / "broad.py"
    path.write_text(BROAD_CONNECTOR)

    result = run_hub_process("run", str(path), "--json")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert "declares an invalid allowed_hosts entry" in summary["error"]
    assert "at least two labels" in summary["error"]
    # The run never started, so no run is left "running" in the catalog.
    assert not (hub_home / "data" / "catalog.sqlite").exists()
