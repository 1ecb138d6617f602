"""``hub run`` end to end against the local Cluvio-compatible server."""

import json
import sqlite3
import textwrap

import pytest

from conftest import read_jsonl
from secoda_connector_cluvio.testserver import DEFAULT_PASSWORD


def catalog_rows(hub_home, table):
    path = hub_home / "data" / "catalog.sqlite"
    with sqlite3.connect(path) as connection:
        connection.row_factory = sqlite3.Row
        return [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]


def test_run_prints_summary(hub, cluvio_credentials, cluvio_account):
    result = hub("run", "cluvio")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cluvio 0.1.0 (profile default): succeeded in")
    rows = [line.split() for line in lines]
    assert ["dashboard", str(cluvio_account.dashboard_count)] in rows
    assert ["chart", f"{cluvio_account.report_count:,}"] in rows
    assert any(line.strip().startswith("lineage") for line in lines)
    assert any(line.strip().startswith("http") for line in lines)


def test_run_json_counts_match_account(hub, cluvio_credentials, cluvio_account):
    result = hub("run", "cluvio", "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    dashboards = cluvio_account.dashboard_count
    reports = cluvio_account.report_count
    assert summary["status"] == "succeeded"
    assert summary["resources_by_type"] == {
        "chart": reports,
        "dashboard": dashboards,
        "dashboard_group": 1,
    }
    # dashboard->group, chart->dashboard and SQL->chart for every report.
    assert summary["lineage"] == dashboards + 2 * reports
    # One sign-in, one dashboard list, one detail per dashboard.
    assert summary["http"]["requests"] == dashboards + 2
    assert summary["catalog"]["resources"]["added"] == 1 + dashboards + reports


def test_run_keeps_one_connection(hub, cluvio_credentials, cluvio_account):
    result = hub("run", "cluvio", "--json")

    assert result.exit_code == 0, result.output
    requests = json.loads(result.stdout)["http"]["requests"]
    assert requests == cluvio_account.dashboard_count + 2
    assert cluvio_credentials.request_count == requests
    # The runner's pooled client keeps the connection alive for the whole run.
    assert cluvio_credentials.connection_count == 1


def test_progress_line_ends_with_totals(hub, cluvio_credentials, cluvio_account):
    result = hub("run", "cluvio", "--progress")

    assert result.exit_code == 0, result.output
    resources = 1 + cluvio_account.dashboard_count + cluvio_account.report_count
    lineage = cluvio_account.dashboard_count + 2 * cluvio_account.report_count
    requests = cluvio_account.dashboard_count + 2
    final = (
        f"\rcluvio: {resources:,} resources, {lineage:,} lineage edges, "
        f"{requests:,} requests,"
    )
    assert final in result.stderr
    # The line is blanked before the summary is printed on stdout.
    assert result.stderr.endswith("\r")
    assert result.stdout.startswith("cluvio 0.1.0 (profile default): succeeded")


def test_no_progress_line_by_default(hub, cluvio_credentials):
    result = hub("run", "cluvio")

    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr


def test_run_writes_catalog(hub, hub_home, cluvio_credentials, cluvio_account):
    assert hub("run", "cluvio").exit_code == 0

    runs = catalog_rows(hub_home, "runs")
    resources = catalog_rows(hub_home, "resources")
    assert [run["status"] for run in runs] == ["succeeded"]
    assert runs[0]["connector_version"] == "0.1.0"
    assert runs[0]["finished_at"] >= runs[0]["started_at"]
    assert (
        len(resources)
        == 1 + cluvio_account.dashboard_count + cluvio_account.report_count
    )
    charts = [row for row in resources if row["entity_type"] == "chart"]
    assert all(
        row["parent_databuilder_id"].startswith("cluvio.dashboard.") for row in charts
    )


def test_run_output_upload_format(hub, tmp_path, cluvio_credentials, cluvio_account):
    output = tmp_path / "upload"

    result = hub("run", "cluvio", "--output", str(output))

    assert result.exit_code == 0, result.output
    resources = read_jsonl(output / "resources.jsonl")
    lineage = read_jsonl(output / "lineage.jsonl")
    assert (
        len(resources)
        == 1 + cluvio_account.dashboard_count + cluvio_account.report_count
    )
    assert (
        len(lineage) == cluvio_account.dashboard_count + 2 * cluvio_account.report_count
    )
    # The upload format leaves out None values.
    assert all(None not in row.values() for row in resources)
    sources = {edge["from_identifier"]["type"] for edge in lineage}
    assert sources == {"internal_resource", "tables_from_query"}
    assert not list(output.glob(".*.partial"))


def test_second_run_reports_unchanged(hub, cluvio_credentials):
    hub("run", "cluvio")

    summary = json.loads(hub("run", "cluvio", "--json").stdout)

    counts = summary["catalog"]["resources"]
    assert counts["added"] == 0
    assert counts["changed"] == 0
    assert counts["unchanged"] == summary["resources"]


def test_unknown_connector_lists_installed(hub):
    result = hub("run", "nosuch")

    assert result.exit_code == 2
    assert "'nosuch'" in result.stderr
    assert "cluvio" in result.stderr


def test_missing_credentials_make_no_request(hub, cluvio_server):
    result = hub("run", "cluvio")

    assert result.exit_code == 2
    assert "email" in result.stderr
    assert "password" in result.stderr
    assert "`hub credentials set cluvio`" in result.stderr
    assert cluvio_server.request_count == 0


def test_wrong_password_fails_cleanly(hub, hub_home, cluvio_credentials):
    assert hub("run", "cluvio").exit_code == 0
    before = catalog_rows(hub_home, "resources")
    hub("credentials", "set", "cluvio", "password=not-the-password")

    result = hub("run", "cluvio")

    assert result.exit_code == 1
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(error_lines) == 1
    assert f"sign-in failed for {cluvio_credentials.url}" in error_lines[0]
    assert catalog_rows(hub_home, "resources") == before
    assert [run["status"] for run in catalog_rows(hub_home, "runs")] == [
        "succeeded",
        "failed",
    ]


FAILING_CONNECTOR = textwrap.dedent(
    """
    from hub.sdk import Resource, SecodaIntegration


    class HalfwayFailure(SecodaIntegration):
        def extract(self):
            for number in range(50):
                self.declare_resource(
                    Resource(entity_type="dashboard", databuilder_id=f"d.{number}")
                )
            if self.credentials.get("fail") == "yes":
                raise RuntimeError("lost the connection halfway")
    """
)


@pytest.fixture
def failing_connector(tmp_path, hub):
    path = tmp_path / "halfway.py"
    path.write_text(FAILING_CONNECTOR)
    hub("credentials", "set", str(path), "fail=no")
    return path


def test_failure_keeps_previous_data(hub, hub_home, tmp_path, failing_connector):
    output = tmp_path / "out"
    assert hub("run", str(failing_connector), "--output", str(output)).exit_code == 0
    resources_before = catalog_rows(hub_home, "resources")
    file_before = (output / "resources.jsonl").read_bytes()
    hub("credentials", "set", str(failing_connector), "fail=yes")

    result = hub("run", str(failing_connector), "--output", str(output))

    assert result.exit_code == 1
    assert "lost the connection halfway" in result.stderr
    assert "Traceback" not in result.output
    assert catalog_rows(hub_home, "resources") == resources_before
    assert (output / "resources.jsonl").read_bytes() == file_before
    assert not list(output.glob(".*.partial"))
    failed = catalog_rows(hub_home, "runs")[-1]
    assert failed["status"] == "failed"
    assert "RuntimeError: lost the connection halfway" in failed["error"]


def test_verbose_failure_shows_traceback(hub, failing_connector):
    hub("credentials", "set", str(failing_connector), "fail=yes")

    result = hub("run", str(failing_connector), "--verbose")

    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "RuntimeError" in result.stderr


def test_failed_run_json_reports_error(hub, failing_connector):
    hub("credentials", "set", str(failing_connector), "fail=yes")

    result = hub("run", str(failing_connector), "--json")

    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["status"] == "failed"
    assert summary["resources"] == 50
    assert "halfway" in summary["error"]


def test_no_secret_in_outputs(hub, hub_home, tmp_path, cluvio_credentials):
    output = tmp_path / "out"
    results = [
        hub("credentials", "list"),
        hub("credentials", "list", "--json"),
        hub("run", "cluvio", "--output", str(output), "--verbose"),
        hub("run", "cluvio", "--json"),
    ]
    hub("credentials", "set", "cluvio", "password=wrong-" + DEFAULT_PASSWORD)
    results.append(hub("run", "cluvio", "--verbose"))

    texts = [result.output for result in results]
    texts += [path.read_text() for path in output.iterdir()]
    for path in (hub_home / "data").iterdir():
        texts.append(path.read_bytes().decode("latin-1"))
    for text in texts:
        assert DEFAULT_PASSWORD not in text
