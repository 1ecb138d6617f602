"""Python-level output of ``hub run`` and ``hub credentials test`` until exit.

A connector's non-daemon thread and its ``atexit`` callbacks run after
``extract()`` returns, and libraries write bytes to ``sys.stdout.buffer``.
All of it must reach stderr with secrets redacted, while stdout carries
only the hub's own output.
"""

import io
import json
import sys
import textwrap
import threading

import pytest
from click.testing import CliRunner

from conftest import run_hub_process
from hub.cli import cli
from hub.connector_streams import RedactingStream, connector_output_to_stderr
from hub.redaction import Redactor

PASSWORDS = ('Mx7/Qk "zebra" ünï+=&pw', "Tr0ub@dor 3xyz")
# Pieces of the passwords that survive any encoding of them.
FRAGMENTS = ("zebra", "Tr0ub", "3xyz")

LATE_WRITER = textwrap.dedent(
    """
    import atexit
    import sys
    import threading
    import time

    from hub.sdk import CredentialField, SecodaIntegration


    def write_later(password):
        def late():
            # Long enough that extract() and the run's summary come first.
            time.sleep(0.3)
            print("THREAD", password)
            sys.stdout.buffer.write(("BYTES " + password + "\\n").encode())
            sys.stdout.flush()

        threading.Thread(target=late).start()
        atexit.register(print, "ATEXIT", password)
        atexit.register(print, "ATEXIT-STDERR", password, file=sys.stderr)


    class LateWriter(SecodaIntegration):
        credential_fields = (CredentialField("password", secret=True),)

        def extract(self):
            write_later(self.credentials["password"])

        def check_connection(self):
            write_later(self.credentials["password"])
    """
)


@pytest.fixture
def late_writer(tmp_path):
    path = tmp_path / "late_writer.py"
    path.write_text(LATE_WRITER)
    return path


def store_password(connector, password: str) -> None:
    stored = CliRunner().invoke(
        cli,
        ["credentials", "set", str(connector), "--stdin"],
        input=json.dumps({"password": password}),
    )
    assert stored.exit_code == 0, stored.output


def assert_late_output_redacted(result) -> None:
    for line in ("THREAD", "BYTES", "ATEXIT", "ATEXIT-STDERR"):
        assert f"{line} [redacted]\n" in result.stderr
        assert line not in result.stdout
    for fragment in FRAGMENTS:
        assert fragment not in result.stdout
        assert fragment not in result.stderr


@pytest.mark.parametrize("password", PASSWORDS)
def test_late_output_keeps_json(password, late_writer):
    store_password(late_writer, password)

    result = run_hub_process("run", str(late_writer), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert_late_output_redacted(result)


def test_late_output_after_summary(late_writer):
    store_password(late_writer, PASSWORDS[0])

    result = run_hub_process("run", str(late_writer))

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("late_writer (profile default): succeeded")
    assert_late_output_redacted(result)


def test_credentials_test_late_output(late_writer):
    store_password(late_writer, PASSWORDS[0])

    result = run_hub_process("credentials", "test", str(late_writer))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok: late_writer accepted the credentials\n"
    assert_late_output_redacted(result)


LIBRARY_PROBE = textwrap.dedent(
    """
    import io
    import sys

    from hub.sdk import CredentialField, SecodaIntegration


    class Probe(SecodaIntegration):
        credential_fields = (CredentialField("password", secret=True),)

        def extract(self):
            print("line_buffering", sys.stdout.line_buffering)
            try:
                sys.stdout.fileno()
            except io.UnsupportedOperation:
                print("fileno unsupported")
            wrapper = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8")
            wrapper.write("wrapped " + self.credentials["password"] + "\\n")
            wrapper.flush()
            wrapper.detach()
    """
)


def test_stream_serves_byte_writers(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(LIBRARY_PROBE)
    store_password(probe, PASSWORDS[0])

    result = run_hub_process("run", str(probe), "--json")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "succeeded"
    assert "line_buffering " in result.stderr
    assert "fileno unsupported" in result.stderr
    assert "wrapped [redacted]" in result.stderr
    assert "zebra" not in result.stderr


def make_stream(secret: str = PASSWORDS[0]):
    target = io.StringIO()
    return RedactingStream(target, Redactor([secret])), target


def test_run_block_reuses_cli_stream(monkeypatch):
    # Inside `hub run`, whose streams redact with the run's redactor, a
    # second stream would redact every write twice.
    stream, _ = make_stream()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", stream)

    with connector_output_to_stderr(stream.redactor):
        assert sys.stdout is stream
        assert sys.stderr is stream


def test_run_block_other_redactor_wraps(monkeypatch):
    stream, target = make_stream()
    monkeypatch.setattr(sys, "stdout", stream)
    monkeypatch.setattr(sys, "stderr", stream)

    with connector_output_to_stderr(Redactor(["other-secret"])):
        assert sys.stdout is not stream
        print("token other-secret")

    assert target.getvalue() == "token [redacted]\n"


def test_buffer_split_secret_redacted():
    stream, target = make_stream()
    data = f"key {PASSWORDS[0]} end\n".encode()
    # Cut inside the secret and inside the two bytes of "ü".
    cut = data.index("ü".encode()) + 1

    stream.buffer.write(data[:cut])
    stream.buffer.write(memoryview(data[cut:]))
    stream.close_out()

    assert target.getvalue() == "key [redacted] end\n"


def test_buffer_bad_bytes_replaced():
    stream, target = make_stream()

    stream.buffer.write(b"bad \xff byte, cut \xc3")
    stream.close_out()

    assert target.getvalue() == "bad \ufffd byte, cut \ufffd"


def test_stream_has_no_file_descriptor():
    stream, _ = make_stream()

    with pytest.raises(io.UnsupportedOperation):
        stream.fileno()
    with pytest.raises(io.UnsupportedOperation):
        stream.buffer.fileno()


def test_threads_split_secrets_redacted():
    stream, target = make_stream()

    def write_many():
        # Each thread writes the secret in two pieces, as print writes its
        # arguments, while the others do the same.
        for _ in range(200):
            stream.write(PASSWORDS[0][:5])
            stream.write(PASSWORDS[0][5:] + "\n")

    threads = [threading.Thread(target=write_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stream.close_out()

    assert target.getvalue() == "[redacted]\n" * 800


def test_close_out_skips_closed_target():
    stream, target = make_stream()
    stream.write("held Mx7/Q")
    target.close()

    stream.close_out()
