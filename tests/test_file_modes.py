"""Files the hub writes for sharing get the mode that the umask gives.

Upload files and the catalog hold no secret, because secrets are redacted
before anything is written, so they are created as `open()` creates a
file: mode 0666 minus the umask. The credential store is the exception and
has its own tests.
"""

import stat
import textwrap
from pathlib import Path

import pytest

from conftest import run_hub_process

ONE_DASHBOARD = textwrap.dedent(
    '''
    from hub.sdk import Resource, SecodaIntegration


    class OneDashboard(SecodaIntegration):
        """One dashboard, declared without calling any API."""

        def extract(self):
            self.declare_resource(
                Resource(entity_type="dashboard", databuilder_id="one.d1")
            )
    '''
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("umask", "expected"), [(0o022, 0o644), (0o027, 0o640)], ids=["022", "027"]
)
def test_export_and_output_share_mode(umask, expected, tmp_path, hub_home):
    (tmp_path / "one.py").write_text(ONE_DASHBOARD)

    run = run_hub_process(
        "run", "./one.py", "--output", "out", cwd=tmp_path, umask=umask
    )
    export = run_hub_process("catalog", "export", "exported", cwd=tmp_path, umask=umask)

    assert run.returncode == 0, run.stderr
    assert export.returncode == 0, export.stderr
    written = {
        "catalog": hub_home / "data" / "catalog.sqlite",
        "run --output": tmp_path / "out" / "resources.jsonl",
        "export resources": tmp_path / "exported" / "resources.jsonl",
        "export lineage": tmp_path / "exported" / "lineage.jsonl",
    }
    assert {name: oct(mode(path)) for name, path in written.items()} == {
        name: oct(expected) for name in written
    }
    assert sorted(path.name for path in (tmp_path / "exported").iterdir()) == [
        "lineage.jsonl",
        "resources.jsonl",
    ]
