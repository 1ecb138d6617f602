"""What a connector prints or declares during ``hub run``, in a real process.

Its ``print`` output must reach stderr, not the summary on stdout, and no
secret may survive in that output, in the catalog or in the upload files.
"""

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from conftest import read_jsonl, run_hub_process
from hub.credentials import env_name
from hub.errors import ValidationError
from hub.ingest import HubIngestStrategy, Progress
from hub.redaction import Redactor
from hub.sdk import DeclaredLineage, InternalResource, Resource
from hub.validation import Validator

# A quote, a newline and non-ASCII text, so the secret has distinct raw,
# JSON-escaped and repr forms.
TOKEN = 'tok"en\nsecret-Ω-5512'
FRAGMENT = "secret-Ω-5512"

PRINTING_CONNECTOR = textwrap.dedent(
    """
    import sys

    from hub.sdk import (
        CredentialField,
        DeclaredLineage,
        InternalResource,
        Resource,
        SecodaIntegration,
        TablesFromSQLQuery,
    )


    class Printing(SecodaIntegration):
        credential_fields = (CredentialField("token", secret=True),)

        def extract(self):
            token = self.credentials["token"]
            print("hello from the connector")
            print("token is", token)
            print("to stderr", token, file=sys.stderr)
            # One secret written in two pieces, as a progress bar might.
            sys.stdout.write(token[:4])
            sys.stdout.write(token[4:] + " split\\n")
            self.declare_resource(
                Resource(
                    entity_type="dashboard",
                    databuilder_id="d.1",
                    title="dashboard about " + token,
                    owners=["me", token],
                )
            )
            self.declare_resource(
                Resource(entity_type="chart", databuilder_id="c.1", title="clean")
            )
            self.declare_lineage(
                DeclaredLineage(
                    from_identifier=TablesFromSQLQuery(
                        sql=f"select * from t where key = '{token}'"
                    ),
                    to_identifier=InternalResource(databuilder_id="c.1"),
                )
            )


    if __name__ == "__main__":
        Printing(credentials={"token": "script-mode"}).start()
    """
)


@pytest.fixture
def printing_connector(tmp_path, monkeypatch):
    path = tmp_path / "printing.py"
    path.write_text(PRINTING_CONNECTOR)
    monkeypatch.setenv(env_name("printing", "default", "token"), TOKEN)
    return path


def assert_no_secret(text: str) -> None:
    for form in (TOKEN, json.dumps(TOKEN)[1:-1], FRAGMENT):
        assert form not in text


def test_print_keeps_json_stdout(printing_connector, tmp_path):
    result = run_hub_process("run", str(printing_connector), "--json")

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "succeeded"
    assert "hello from the connector" not in result.stdout
    assert "hello from the connector" in result.stderr


def test_print_and_stderr_redacted(printing_connector):
    result = run_hub_process("run", str(printing_connector))

    assert result.returncode == 0, result.stderr
    assert "token is [redacted]" in result.stderr
    assert "to stderr [redacted]" in result.stderr
    assert "[redacted] split" in result.stderr
    assert_no_secret(result.stdout)
    assert_no_secret(result.stderr)


def test_declared_secret_redacted(printing_connector, hub_home, tmp_path):
    output = tmp_path / "upload"

    result = run_hub_process("run", str(printing_connector), "--output", str(output))

    assert result.returncode == 0, result.stderr
    assert (
        "warning: 3 declared values contained a secret and were redacted"
        in result.stderr
    )
    resources = {
        row["databuilder_id"]: row for row in read_jsonl(output / "resources.jsonl")
    }
    assert resources["d.1"]["title"] == "dashboard about [redacted]"
    assert resources["d.1"]["owners"] == ["me", "[redacted]"]
    assert resources["c.1"]["title"] == "clean"
    lineage = read_jsonl(output / "lineage.jsonl")
    assert lineage[0]["from_identifier"]["sql"] == (
        "select * from t where key = '[redacted]'"
    )
    catalog = hub_home / "data" / "catalog.sqlite"
    with sqlite3.connect(catalog) as connection:
        titles = dict(connection.execute("SELECT databuilder_id, title FROM resources"))
        bodies = [row[0] for row in connection.execute("SELECT body FROM resources")]
        edges = [row[0] for row in connection.execute("SELECT body FROM lineage")]
    connection.close()
    assert titles["d.1"] == "dashboard about [redacted]"
    for text in (*bodies, *edges, *(path.read_text() for path in output.iterdir())):
        assert_no_secret(text)


def test_redacted_count_in_json(printing_connector):
    result = run_hub_process("run", str(printing_connector), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["redacted_values"] == 3
    assert_no_secret(result.stdout)


def test_script_mode_prints_models(printing_connector):
    # Run as a plain script, a connector keeps secodadk's behaviour: its own
    # prints and one JSON line per model, all on stdout.
    result = subprocess.run(
        [sys.executable, str(printing_connector)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "hello from the connector"
    assert lines[1] == "token is script-mode"
    models = [json.loads(line) for line in lines if line.startswith("{")]
    assert [model.get("databuilder_id") for model in models[:2]] == ["d.1", "c.1"]
    assert models[0]["title"] == "dashboard about script-mode"
    assert "to stderr script-mode" in result.stderr


def make_strategy(redactor):
    return HubIngestStrategy([], Progress(), validator=Validator(), redactor=redactor)


def test_clean_model_passes_unchanged():
    strategy = make_strategy(Redactor(["s3cret-value"]))
    resource = Resource(entity_type="chart", databuilder_id="c.1", title="fine")

    strategy.declare_resource(resource)

    assert strategy.redacted_values == 0


def test_unreplaceable_secret_fails():
    # A secret inside a fixed value cannot be replaced without breaking the
    # model, so the model is rejected rather than stored with the secret.
    strategy = make_strategy(Redactor(["internal_resource"]))
    edge = DeclaredLineage(
        from_identifier=InternalResource(databuilder_id="a"),
        to_identifier=InternalResource(databuilder_id="b"),
    )

    with pytest.raises(ValidationError, match="cannot replace"):
        strategy.declare_lineage(edge)
