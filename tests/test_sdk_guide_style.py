"""A connector written as the SDK guide teaches runs under the hub unchanged.

The connector below follows the published guide's idioms: ``.get()`` on
``self.credentials``, a ``dict`` of keyword arguments reused as
``**auth``, and ``start()`` when run as a script. Only its import line differs
from a ``secodadk`` connector.
"""

import json
import os
import subprocess
import sys
import textwrap

from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, DEFAULT_PASSWORD

GUIDE_STYLE = textwrap.dedent(
    """
    import os

    from hub.sdk import SecodaIntegration, Resource, DeclaredLineage, InternalResource


    class FakeCluvioIntegration(SecodaIntegration):
        def extract(self):
            base = self.credentials.get("base_url")
            token_response = self.http_post(
                f"{base}/users/sign_in",
                json={
                    "user": {
                        "email": self.credentials.get("email"),
                        "password": self.credentials.get("password"),
                    }
                },
                headers={"Accept": "application/json"},
            )
            token = token_response.json().get("token")

            auth = dict(
                headers={"token": token},
                verify=True,
            )

            group_databuilder_id = "dashboard_group.default"
            self.declare_resource(
                Resource(
                    entity_type="dashboard_group",
                    databuilder_id=group_databuilder_id,
                    title="default",
                )
            )

            dashboards = self.http_get(f"{base}/dashboards/", **auth).json().get("data", [])
            for dashboard in dashboards:
                dashboard_databuilder_id = f"dashboard.{dashboard.get('id')}"
                self.declare_resource(
                    Resource(
                        entity_type="dashboard",
                        databuilder_id=dashboard_databuilder_id,
                        title=dashboard.get("attributes", {}).get("name"),
                        description=dashboard.get("attributes", {}).get("description"),
                        parent_databuilder_id=group_databuilder_id,
                        external_updated_at=dashboard.get("attributes", {}).get(
                            "updated_at"
                        ),
                        product="cluvio",
                        native_type="dashboard",
                    )
                )
                self.declare_lineage(
                    DeclaredLineage(
                        from_identifier=InternalResource(
                            databuilder_id=dashboard_databuilder_id
                        ),
                        to_identifier=InternalResource(databuilder_id=group_databuilder_id),
                    )
                )


    if __name__ == "__main__":
        FakeCluvioIntegration(
            credentials={
                "email": os.environ["EMAIL"],
                "password": os.environ["PASSWORD"],
                "base_url": os.environ["BASE_URL"],
            }
        ).start()
    """
)


def write_connector(tmp_path):
    path = tmp_path / "fake_cluvio_integration.py"
    path.write_text(GUIDE_STYLE)
    return path


def test_guide_connector_runs_under_hub(hub, tmp_path, cluvio_server, cluvio_account):
    path = write_connector(tmp_path)
    hub(
        "credentials",
        "set",
        str(path),
        f"email={DEFAULT_EMAIL}",
        f"password={DEFAULT_PASSWORD}",
        f"base_url={cluvio_server.url}",
        "--allow-base-url-host",
    )

    result = hub("run", str(path), "--json")

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["connector"] == "fake_cluvio_integration"
    assert summary["resources_by_type"] == {
        "dashboard": cluvio_account.dashboard_count,
        "dashboard_group": 1,
    }
    assert summary["lineage"] == cluvio_account.dashboard_count


def test_guide_connector_runs_as_script(tmp_path, cluvio_server, cluvio_account):
    path = write_connector(tmp_path)
    env = {
        **os.environ,
        "EMAIL": DEFAULT_EMAIL,
        "PASSWORD": DEFAULT_PASSWORD,
        "BASE_URL": cluvio_server.url,
    }

    result = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, env=env, timeout=60
    )

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 1 + 2 * cluvio_account.dashboard_count
    assert lines[0]["entity_type"] == "dashboard_group"
