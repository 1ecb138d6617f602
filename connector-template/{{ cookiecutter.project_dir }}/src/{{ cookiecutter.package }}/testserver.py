"""A local server that answers like the API, for the connector's tests.

Run ``python -m {{ cookiecutter.package }}.testserver`` to start one on
127.0.0.1; it prints its URL on the first line and accepts the token
``test-token-0123456789``. It runs until it receives SIGTERM or SIGINT
(Ctrl-C), so it also works in the background with ``&``.
``--stop-on-stdin-close`` also stops it when its standard input closes,
which lets a test stop it by closing a pipe.
"""

import argparse
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-token-0123456789"

DASHBOARDS = [
    {"id": "d1", "name": "Revenue"},
    {"id": "d2", "name": "Support queue"},
]
CHARTS = {
    "d1": [{"id": "c1", "name": "Monthly revenue"}, {"id": "c2", "name": "Churn"}],
    "d2": [{"id": "c3", "name": "Open tickets"}],
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._send(401, {"error": "invalid token"})
            return
        parts = [part for part in self.path.split("?")[0].split("/") if part]
        if parts == ["dashboards"]:
            self._send(200, DASHBOARDS)
        elif len(parts) == 3 and parts[0] == "dashboards" and parts[2] == "charts":
            self._send(200, CHARTS.get(parts[1], []))
        else:
            self._send(404, {"error": f"no route for {self.path}"})

    def _send(self, status: int, body: object) -> None:
        payload = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass


class LocalApiServer:
    """The server on 127.0.0.1 and ``port`` (0: a free one), as a context manager."""

    def __init__(self, port: int = 0):
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "LocalApiServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._thread.join()
        self._server.server_close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Serve the API's test data on 127.0.0.1 until SIGTERM or SIGINT."
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="TCP port to listen on (default: a free one).",
    )
    parser.add_argument(
        "--stop-on-stdin-close",
        action="store_true",
        help="Also stop when standard input closes.",
    )
    arguments = parser.parse_args(argv)

    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    if arguments.stop_on_stdin_close:
        threading.Thread(target=_set_on_stdin_close, args=(stop,), daemon=True).start()

    with LocalApiServer(arguments.port) as server:
        print(server.url, flush=True)
        # A timeout lets the main thread run the signal handlers promptly.
        while not stop.wait(0.5):
            pass


def _set_on_stdin_close(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


if __name__ == "__main__":
    main()
