"""Running build, venv and pip subprocesses so that Ctrl-C stops them cleanly.

Each child starts in its own process group with its own ``TMPDIR``. When the
hub is interrupted, it sends SIGINT to the whole group, as a terminal does,
waits for the children to clean up, and then removes that ``TMPDIR``. So
``python -m build`` removes its ``build-env-*`` environment and pip rolls back
a half-finished install, also when only the hub process received the signal.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)

# Seconds an interrupted child gets to clean up before it is killed.
INTERRUPT_GRACE_SECONDS = 15.0


def run_process(
    command: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """Run ``command`` to completion and return its captured text output.

    Raises ``subprocess.TimeoutExpired`` after ``timeout`` seconds and, with
    ``check``, ``subprocess.CalledProcessError`` for a non-zero exit status.
    The child and its own children are stopped before either error, or a
    KeyboardInterrupt, leaves this function.
    """
    with tempfile.TemporaryDirectory(prefix="hub-subprocess-") as temporary:
        child_env = {**(os.environ if env is None else env), "TMPDIR": temporary}
        process = subprocess.Popen(
            list(command),
            # The output is captured, so a prompt could never be answered.
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env,
            start_new_session=True,
        )
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            _stop_group(process)
            raise
    result = subprocess.CompletedProcess(
        process.args, process.returncode, stdout, stderr
    )
    if check:
        result.check_returncode()
    return result


def _stop_group(process: subprocess.Popen) -> None:
    """Interrupt the child's process group, then kill whatever is left of it."""
    try:
        if process.poll() is None:
            logger.info("interrupting %s (pid %d)", process.args[0], process.pid)
            _signal_group(process, signal.SIGINT)
            # communicate(), not wait(), so output written while the child
            # cleans up cannot fill a pipe and block it.
            process.communicate(timeout=INTERRUPT_GRACE_SECONDS)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        # A child that ignores SIGINT, or a second Ctrl-C, ends the wait.
        pass
    finally:
        if process.poll() is None:
            logger.warning(
                "killing %s (pid %d), which did not stop on SIGINT",
                process.args[0],
                process.pid,
            )
        # Also ends any grandchild that outlived the child.
        _signal_group(process, signal.SIGKILL)
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def _signal_group(process: subprocess.Popen, signal_number: int) -> None:
    # The group's id is the child's pid, because start_new_session made the
    # child its leader; the group may already be gone.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal_number)
