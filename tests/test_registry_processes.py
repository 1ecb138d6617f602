"""Build and pip subprocesses stop cleanly when the hub is interrupted.

Each test runs a real child Python that records what it saw, then sends
SIGINT to the test process alone, as `kill -INT` on the hub's pid would.
"""

import os
import signal
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from hub.registry import processes
from hub.registry.processes import run_process

# Creates a directory in TMPDIR, reports it, and waits for SIGINT.
CLEANING_CHILD = textwrap.dedent(
    """
    import pathlib, sys, tempfile, time
    report = pathlib.Path(sys.argv[1])
    scratch = tempfile.mkdtemp(prefix="build-env-")
    report.write_text(scratch)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        report.with_suffix(".interrupted").write_text("cleaned up")
        raise
    """
)

# Starts a grandchild, and both ignore SIGINT.
STUBBORN_CHILD = textwrap.dedent(
    """
    import pathlib, signal, subprocess, sys, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pathlib.Path(sys.argv[1]).write_text(str(grandchild.pid))
    time.sleep(60)
    """
)


def interrupt_when_written(report: Path) -> threading.Thread:
    """Send SIGINT to this process once the child has written ``report``."""

    def wait_then_interrupt():
        deadline = time.monotonic() + 30
        while not report.exists() or not report.read_text():
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=wait_then_interrupt, daemon=True)
    thread.start()
    return thread


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie process accepts signal 0 but no longer runs.
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_interrupt_reaches_child(tmp_path):
    report = tmp_path / "report.txt"
    interrupter = interrupt_when_written(report)

    with pytest.raises(KeyboardInterrupt):
        run_process([sys.executable, "-c", CLEANING_CHILD, str(report)], timeout=60)
    interrupter.join()

    scratch = Path(report.read_text())
    assert report.with_suffix(".interrupted").read_text() == "cleaned up"
    assert scratch.name.startswith("build-env-")
    assert not scratch.exists()
    assert not scratch.parent.exists()


def test_child_gets_private_tmpdir(tmp_path):
    result = run_process(
        [sys.executable, "-c", "import tempfile; print(tempfile.gettempdir())"],
        timeout=60,
    )

    temporary = Path(result.stdout.strip())
    assert result.returncode == 0
    assert temporary.name.startswith("hub-subprocess-")
    assert not temporary.exists()


def test_stubborn_group_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(processes, "INTERRUPT_GRACE_SECONDS", 0.5)
    report = tmp_path / "grandchild.pid"
    interrupter = interrupt_when_written(report)

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_process([sys.executable, "-c", STUBBORN_CHILD, str(report)], timeout=60)
    interrupter.join()

    grandchild = int(report.read_text())
    deadline = time.monotonic() + 10
    while is_running(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(grandchild)
    assert time.monotonic() - started < 30


def test_check_raises_for_failure():
    with pytest.raises(processes.subprocess.CalledProcessError) as raised:
        run_process(
            [sys.executable, "-c", "raise SystemExit(3)"], timeout=60, check=True
        )

    assert raised.value.returncode == 3
