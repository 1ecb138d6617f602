"""Time the Cluvio connector under three network strategies.

The script starts the Cluvio-compatible test server with 2,000 dashboards in a
child process on 127.0.0.1 (so that the server does not share the client's
interpreter lock), then extracts the account with:

- per-request: ``DefaultNetworkCallStrategy``, one ``httpx.request`` per call,
  which is what ``secodadk`` does;
- bare pooled: one plain ``httpx.Client`` with no retries, allowlist or stats;
- hub: ``PooledNetworkStrategy`` with an allowlist naming the server, the
  run's secrets, the default retry policy and statistics.

Declared models go to an ingest strategy that drops them, so the times are
those of HTTP and the connector's own work. Rounds run the three strategies in
turn and the medians are compared:

    .venv/bin/python benchmarks/http_runtime.py --repeat 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Optional

import httpx

from hub.sdk.http import PooledNetworkStrategy
from hub.sdk.strategies import (
    DefaultNetworkCallStrategy,
    IngestResourcesStrategy,
    NetworkCallStrategy,
)
from secoda_connector_cluvio.connector import CluvioIntegration
from secoda_connector_cluvio.testserver import DEFAULT_EMAIL, DEFAULT_PASSWORD

DASHBOARDS = 2000

# Goals: the hub at least this many times faster than per-request, and at
# most this much slower than the bare pooled client.
SPEEDUP_GOAL = 10.0
OVERHEAD_GOAL = 0.25

# Seconds to wait for the server's port file before giving up.
SERVER_START_TIMEOUT = 60


class DiscardIngest(IngestResourcesStrategy):
    """Counts declared models and keeps nothing."""

    def __init__(self):
        self.count = 0

    def declare_resource(self, resource):
        self.count += 1

    def declare_lineage(self, lineage):
        self.count += 1

    def finalize(self):
        pass


class BarePooledStrategy(NetworkCallStrategy):
    """One plain ``httpx.Client`` and nothing else, as the baseline of pooling."""

    def __init__(self):
        self.client = httpx.Client(timeout=60.0)

    def make_request(
        self,
        method: str,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        verify: bool | str = True,
        follow_redirects: bool = False,
        auth: Optional[httpx.BasicAuth] = None,
    ) -> httpx.Response:
        return self.client.request(
            method,
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            auth=auth,
        )

    def finalize(self):
        self.client.close()


class CountingStrategy(NetworkCallStrategy):
    """Counts the calls passed to another strategy, at the cost of one call each."""

    def __init__(self, inner: NetworkCallStrategy):
        self.inner = inner
        self.requests = 0

    def make_request(self, method: str, url: str, **options: Any) -> httpx.Response:
        self.requests += 1
        return self.inner.make_request(method, url, **options)

    def finalize(self):
        self.inner.finalize()


def start_server(directory: Path) -> tuple[subprocess.Popen, str]:
    port_file = directory / "port"
    command = [
        sys.executable,
        "-m",
        "secoda_connector_cluvio.testserver",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--dashboards",
        str(DASHBOARDS),
        "--log-level",
        "WARNING",
    ]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not port_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise SystemExit("the Cluvio test server did not start")
        time.sleep(0.05)
    return process, f"127.0.0.1:{port_file.read_text().strip()}"


def build_strategy(name: str, host: str) -> NetworkCallStrategy:
    if name == "per-request":
        return DefaultNetworkCallStrategy()
    if name == "bare pooled":
        return BarePooledStrategy()
    return PooledNetworkStrategy(allowed_hosts=[host], secrets=[DEFAULT_PASSWORD])


def extract_once(name: str, host: str) -> tuple[float, int]:
    """Run one extraction and return its wall time and request count."""
    network = CountingStrategy(build_strategy(name, host))
    ingest = DiscardIngest()
    connector = CluvioIntegration(
        credentials={
            "email": DEFAULT_EMAIL,
            "password": DEFAULT_PASSWORD,
            "base_url": f"http://{host}",
        },
        ingest_resources_strategy=ingest,
        network_call_strategy=network,
    )
    started = time.perf_counter()
    connector.start()
    elapsed = time.perf_counter() - started

    if ingest.count == 0:
        raise SystemExit(f"{name}: the connector declared nothing")
    return elapsed, network.requests


def run(repeat: int, host: str) -> dict[str, list[float]]:
    names = ("per-request", "bare pooled", "hub")
    times: dict[str, list[float]] = {name: [] for name in names}
    requests = 0
    for round_number in range(1, repeat + 1):
        for name in names:
            elapsed, requests = extract_once(name, host)
            times[name].append(elapsed)
            print(f"round {round_number}: {name:<12} {elapsed:7.3f} s", flush=True)
    times["requests"] = [requests]
    return times


def report(times: dict[str, list[float]]) -> None:
    requests = times.pop("requests")[0]
    medians = {name: statistics.median(values) for name, values in times.items()}
    print()
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"python: {platform.python_version()}, httpx {httpx.__version__}")
    print(f"requests per extraction: {requests}")
    print(f"{'strategy':<12} {'median s':>9} {'min s':>8} {'req/s':>8}")
    for name, median in medians.items():
        fastest = min(times[name])
        print(f"{name:<12} {median:9.3f} {fastest:8.3f} {requests / median:8.0f}")

    speedup = medians["per-request"] / medians["hub"]
    overhead = medians["hub"] / medians["bare pooled"] - 1.0
    print()
    speedup_verdict = "met" if speedup >= SPEEDUP_GOAL else "missed"
    overhead_verdict = "met" if overhead <= OVERHEAD_GOAL else "missed"
    print(
        f"hub vs per-request: {speedup:.1f}x faster "
        f"(goal at least {SPEEDUP_GOAL:.0f}x, {speedup_verdict})"
    )
    print(
        f"hub vs bare pooled: {overhead * 100:+.1f}% slower "
        f"(goal at most +{OVERHEAD_GOAL * 100:.0f}%, {overhead_verdict})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of all three strategies"
    )
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        process, host = start_server(Path(directory))
        try:
            times = run(arguments.repeat, host)
        finally:
            process.terminate()
            process.wait(timeout=30)
    report(times)


if __name__ == "__main__":
    main()
