"""Catalog runs in real processes: concurrent writers, a reader, a SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from hub.catalog import open_catalog
from hub.catalog.queries import run_history
from hub.sdk import Resource

# Bounds that keep a broken test from hanging the suite.
PROCESS_TIMEOUT_SECONDS = 120
READER_MAX_QUERIES = 100_000

OPEN_CATALOG = """
import sys, time
from pathlib import Path
from hub.catalog import open_catalog
"""

WRITER = OPEN_CATALOG + textwrap.dedent(
    """
    from hub.sdk import Resource

    location, connector, count, ready, go = sys.argv[1:6]
    catalog = open_catalog(location)
    run_id = catalog.begin_run(connector, "default", None, None)
    sync = catalog.open_sync(run_id, connector, "default")
    for number in range(int(count)):
        model = Resource(entity_type="table", databuilder_id=f"r{number}", title="v2")
        sync.write_resource(model, model.model_dump_json(exclude_none=True))
    Path(ready).touch()
    # Wait for the other writer, so both merges overlap.
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    sync.commit()
    catalog.close()
    print(sync.result.resources.added)
    """
)

READER = OPEN_CATALOG + textwrap.dedent(
    """
    import json
    from sqlalchemy import text

    location, stop, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    catalog = open_catalog(location)
    seen = set()
    query = text(
        "SELECT connector, COUNT(*), SUM(CASE WHEN title = 'v2' THEN 1 ELSE 0 END)"
        " FROM resources WHERE NOT stale GROUP BY connector ORDER BY connector"
    )
    for _ in range(limit):
        if Path(stop).exists():
            break
        with catalog.read() as connection:
            for connector, total, new in connection.execute(query):
                seen.add((connector, total, new or 0))
    catalog.close()
    print(json.dumps(sorted(seen)))
    """
)


def seed(location, connectors, count):
    catalog = open_catalog(location)
    try:
        for connector in connectors:
            run_id = catalog.begin_run(connector, "default", None, None)
            sync = catalog.open_sync(run_id, connector, "default")
            for number in range(count):
                model = Resource(entity_type="table", databuilder_id=f"r{number}")
                sync.write_resource(model, model.model_dump_json(exclude_none=True))
            sync.commit()
    finally:
        catalog.close()


def start_script(tmp_path, name, source, *args):
    script = tmp_path / f"{name}.py"
    script.write_text(source)
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process):
    stdout, stderr = process.communicate(timeout=PROCESS_TIMEOUT_SECONDS)
    assert process.returncode == 0, stderr
    return stdout


def wait_for(path, process):
    deadline = time.monotonic() + PROCESS_TIMEOUT_SECONDS
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, stderr = process.communicate()
            pytest.fail(f"child exited or timed out before {path.name}: {stderr}")
        time.sleep(0.02)


def test_concurrent_runs_both_succeed(catalog_location, tmp_path):
    seed(catalog_location, ["alpha", "beta"], 1000)
    stop, go = tmp_path / "stop", tmp_path / "go"
    reader = start_script(
        tmp_path, "reader", READER, catalog_location, stop, READER_MAX_QUERIES
    )
    writers = [
        start_script(
            tmp_path,
            f"writer_{name}",
            WRITER,
            catalog_location,
            name,
            2000,
            tmp_path / f"ready_{name}",
            go,
        )
        for name in ("alpha", "beta")
    ]
    for name, writer in zip(("alpha", "beta"), writers, strict=True):
        wait_for(tmp_path / f"ready_{name}", writer)
    go.touch()
    added = [finish(writer).strip() for writer in writers]
    stop.touch()
    seen = {tuple(row) for row in json.loads(finish(reader))}

    assert added == ["1000", "1000"]
    for name in ("alpha", "beta"):
        states = {(total, new) for connector, total, new in seen if connector == name}
        assert states <= {(1000, 0), (2000, 2000)}, states
        assert (2000, 2000) in states


def test_concurrent_runs_recorded(catalog_location, tmp_path):
    seed(catalog_location, ["alpha", "beta"], 10)
    go = tmp_path / "go"
    go.touch()
    writers = [
        start_script(
            tmp_path,
            f"writer_{name}",
            WRITER,
            catalog_location,
            name,
            500,
            tmp_path / f"ready_{name}",
            go,
        )
        for name in ("alpha", "beta")
    ]
    for writer in writers:
        finish(writer)
    catalog = open_catalog(catalog_location)
    try:
        statuses = [run["status"] for run in catalog.runs()]
        counts = {
            name: len(catalog.resources(name, "default")) for name in ("alpha", "beta")
        }
    finally:
        catalog.close()

    assert statuses == ["succeeded"] * 4
    assert counts == {"alpha": 500, "beta": 500}


LARGE_CONNECTOR = textwrap.dedent(
    """
    from pathlib import Path

    from hub.sdk import DeclaredLineage, InternalResource, Resource, SecodaIntegration

    MARKER = Path(__file__).with_name("halfway")


    class LargeSource(SecodaIntegration):
        def extract(self):
            for number in range(200_000):
                self.declare_resource(
                    Resource(entity_type="table", databuilder_id=f"t{number}")
                )
                if number:
                    self.declare_lineage(
                        DeclaredLineage(
                            from_identifier=InternalResource(
                                databuilder_id=f"t{number - 1}"
                            ),
                            to_identifier=InternalResource(databuilder_id=f"t{number}"),
                        )
                    )
                if number == 50_000:
                    MARKER.touch()
    """
)

RUN_CONNECTOR = textwrap.dedent(
    """
    import sys

    from hub.connectors import entry_from_file
    from hub.runner import RunRequest, run

    run(RunRequest(entry_from_file(sys.argv[1]), catalog_location=sys.argv[2]))
    """
)

# The fixtures that run each test on SQLite and on PostgreSQL.
pytest_plugins = ["test_catalog_backends"]


def snapshot(location):
    catalog = open_catalog(location)
    try:
        return (
            catalog.resources("large", "default"),
            catalog.lineage("large", "default"),
            catalog.runs(),
        )
    finally:
        catalog.close()


def test_killed_run_changes_nothing(catalog_location, tmp_path):
    seed(catalog_location, ["large"], 300)
    before = snapshot(catalog_location)
    connector = tmp_path / "large.py"
    connector.write_text(LARGE_CONNECTOR)

    child = start_script(
        tmp_path, "run_large", RUN_CONNECTOR, connector, catalog_location
    )
    wait_for(tmp_path / "halfway", child)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=PROCESS_TIMEOUT_SECONDS)

    resources, lineage, runs = snapshot(catalog_location)
    assert child.returncode == -signal.SIGKILL
    assert resources == before[0]
    assert lineage == before[1]
    assert runs[:-1] == before[2]
    assert runs[-1]["status"] == "running"


def test_killed_run_shows_interrupted(catalog_location, tmp_path):
    connector = tmp_path / "large.py"
    connector.write_text(LARGE_CONNECTOR)
    child = start_script(
        tmp_path, "run_large", RUN_CONNECTOR, connector, catalog_location
    )
    wait_for(tmp_path / "halfway", child)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate(timeout=PROCESS_TIMEOUT_SECONDS)

    catalog = open_catalog(catalog_location)
    try:
        history = run_history(catalog)
        with catalog.read() as connection:
            if catalog.dialect == "sqlite":
                check = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            else:
                check = "ok"
    finally:
        catalog.close()

    assert [run["status"] for run in history] == ["interrupted"]
    assert check == "ok"
