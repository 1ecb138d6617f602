"""Time `hub list` with many connectors installed against a bare metadata read.

The script builds a virtual environment, installs the hub from this repository
and adds generated connector distributions. It then times these commands,
interleaved round by round:

- `python -c pass`, the interpreter's own start-up;
- a Python one-liner that reads the `secoda.connectors` group with
  importlib_metadata, which is the package and call the hub uses;
- the same one-liner with the standard library's importlib.metadata;
- `hub --help`;
- `hub list`.

It prints the median and minimum of each in milliseconds, and the ratio of the
`hub list` median to the importlib_metadata median.

The venv is based on the Python that runs the script:

    python3 benchmarks/list_startup.py --repeat 20
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
CONNECTOR_GROUP = "secoda.connectors"
CONNECTOR_VERSION = "1.0.0"
TARGET_RATIO = 3.0

# Generated names use three digits, so the count has this upper bound.
MAX_CONNECTORS = 1000

# Upper bounds in seconds so that a hung child cannot stall the benchmark.
INSTALL_TIMEOUT = 300
COMMAND_TIMEOUT = 60

# Variables that change what the hub or the interpreter loads. The timed
# children run without them, so the results do not depend on the caller's shell.
IGNORED_ENVIRONMENT = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "SECODA_HUB_BLOCK",
    "SECODA_HUB_DISABLE_PLUGIN_AUTOLOAD",
)

# Each one-liner prints what `hub list` prints per connector: the entry-point
# name, the distribution name and the version.
READ_GROUP_TEMPLATE = (
    "import {module} as metadata\n"
    "for entry_point in metadata.entry_points(group={group!r}):\n"
    "    dist = entry_point.dist\n"
    "    print(entry_point.name, dist.name, dist.version)\n"
)

CONNECTOR_MODULE = '''\
from hub.sdk import SecodaIntegration


class Connector(SecodaIntegration):
    """Benchmark connector {index:03d}: declares nothing."""

    def extract(self):
        pass
'''

WHEEL_TEXT = """\
Wheel-Version: 1.0
Generator: list_startup.py
Root-Is-Purelib: true
Tag: py3-none-any
"""


@dataclass(frozen=True)
class TimedCommand:
    """A command to time, with the label shown in the report."""

    label: str
    argv: list[str]


@dataclass(frozen=True)
class Timing:
    """Wall-clock times in milliseconds of one command over all repetitions."""

    label: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def minimum(self) -> float:
        return min(self.samples)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--venv",
        type=Path,
        help="Virtual environment directory to create or reuse. It is never "
        "deleted. Default: a new temporary directory.",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=20,
        help="Timed runs of each command (default: 20).",
    )
    parser.add_argument(
        "--connectors",
        type=int,
        default=200,
        help="Generated connector distributions to install (default: 200).",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the temporary virtual environment and print its path.",
    )
    arguments = parser.parse_args(argv)

    if arguments.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {arguments.repeat}")
    if not 1 <= arguments.connectors <= MAX_CONNECTORS:
        parser.error(
            f"--connectors must be between 1 and {MAX_CONNECTORS}, "
            f"got {arguments.connectors}"
        )
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)

    if arguments.venv is not None:
        run_benchmark(arguments.venv.resolve(), arguments)
        return

    temporary = Path(tempfile.mkdtemp(prefix="hub-list-startup-"))
    try:
        run_benchmark(temporary / "venv", arguments)
    finally:
        if arguments.keep:
            print(f"kept virtual environment: {temporary / 'venv'}")
        else:
            shutil.rmtree(temporary, ignore_errors=True)


def run_benchmark(venv: Path, arguments: argparse.Namespace) -> None:
    prepare_venv(venv, arguments.connectors)

    commands = timed_commands(venv)
    timings = time_commands(commands, arguments.repeat)

    print_report(timings, arguments)


def prepare_venv(venv: Path, connector_count: int) -> None:
    if not (venv / "bin" / "python").exists():
        log(f"creating virtual environment {venv}")
        run_checked([sys.executable, "-m", "venv", str(venv)], INSTALL_TIMEOUT)

    install_hub(venv)

    site_packages = find_site_packages(venv)
    remove_generated_connectors(site_packages)
    log(f"writing {connector_count} connector distributions into {site_packages}")
    for index in range(connector_count):
        write_connector(site_packages, index)

    check_listed(venv, connector_count)


def install_hub(venv: Path) -> None:
    # pip (checked with 23.2) rebuilds and reinstalls a local directory even when
    # the same version is installed, so a reused venv gets the current hub code.
    log(f"installing the hub from {REPOSITORY_ROOT}")
    python = str(venv / "bin" / "python")
    run_checked(
        [python, "-m", "pip", "install", "--quiet", str(REPOSITORY_ROOT)],
        INSTALL_TIMEOUT,
    )


def find_site_packages(venv: Path) -> Path:
    output = run_checked(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_path('purelib'))",
        ],
        COMMAND_TIMEOUT,
    )
    return Path(output.strip())


def remove_generated_connectors(site_packages: Path) -> None:
    # A reused venv may hold connectors from a run with a larger --connectors.
    for path in site_packages.glob("secoda_connector_bench*"):
        shutil.rmtree(path)


def write_connector(site_packages: Path, index: int) -> None:
    """Lay out one connector the way pip installs a pure-Python wheel.

    pip also compiles each module to bytecode and lists the .pyc files in RECORD.
    This step skips that because `hub list` never imports the modules, and
    `hub list --check` compiles them on first import.
    """
    name = f"bench{index:03d}"
    package = f"secoda_connector_{name}"
    distribution = f"secoda-connector-{name}"
    dist_info = f"{package}-{CONNECTOR_VERSION}.dist-info"

    files = {
        f"{package}/__init__.py": CONNECTOR_MODULE.format(index=index),
        f"{dist_info}/METADATA": metadata_text(distribution),
        f"{dist_info}/WHEEL": WHEEL_TEXT,
        f"{dist_info}/entry_points.txt": (
            f"[{CONNECTOR_GROUP}]\n{name} = {package}:Connector\n"
        ),
        f"{dist_info}/top_level.txt": f"{package}\n",
        f"{dist_info}/INSTALLER": "pip\n",
        f"{dist_info}/REQUESTED": "",
    }
    for relative, text in files.items():
        path = site_packages / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    write_record(site_packages, dist_info, files)


def metadata_text(distribution: str) -> str:
    return (
        "Metadata-Version: 2.1\n"
        f"Name: {distribution}\n"
        f"Version: {CONNECTOR_VERSION}\n"
        "Summary: Generated connector for the hub list start-up benchmark\n"
        "Requires-Python: >=3.11\n"
        "Requires-Dist: secoda-hub\n"
    )


def write_record(site_packages: Path, dist_info: str, files: dict[str, str]) -> None:
    # Each row is path, sha256 digest and size in bytes. RECORD's own row leaves
    # digest and size empty, which is how pip writes it.
    rows = [
        (relative, record_hash(text.encode("utf-8")), len(text.encode("utf-8")))
        for relative, text in files.items()
    ]
    rows.append((f"{dist_info}/RECORD", "", ""))
    rows.sort()

    record_path = site_packages / dist_info / "RECORD"
    with record_path.open("w", encoding="utf-8", newline="") as record:
        csv.writer(record, lineterminator="\n").writerows(rows)


def record_hash(data: bytes) -> str:
    # RECORD uses URL-safe base64 without padding.
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_listed(venv: Path, connector_count: int) -> None:
    output = run_checked([str(venv / "bin" / "hub"), "list", "--json"], COMMAND_TIMEOUT)
    rows = {row["name"]: row for row in json.loads(output)}

    expected = [f"bench{index:03d}" for index in range(connector_count)]
    missing = [name for name in expected if name not in rows]
    if missing:
        raise SystemExit(
            f"hub list --json is missing {len(missing)} of {connector_count} "
            f"generated connectors, for example {', '.join(missing[:5])}"
        )

    wrong = [
        name
        for name in expected
        if rows[name]["distribution"] != f"secoda-connector-{name}"
        or rows[name]["version"] != CONNECTOR_VERSION
    ]
    if wrong:
        raise SystemExit(
            "hub list --json reports the wrong distribution or version for "
            f"{', '.join(wrong[:5])}: {rows[wrong[0]]}"
        )
    log(f"hub list --json shows all {connector_count} generated connectors")


def timed_commands(venv: Path) -> list[TimedCommand]:
    python = str(venv / "bin" / "python")
    hub = str(venv / "bin" / "hub")
    return [
        TimedCommand("python -c pass", [python, "-c", "pass"]),
        TimedCommand(
            "baseline: importlib_metadata",
            [python, "-c", read_group_code("importlib_metadata")],
        ),
        TimedCommand(
            "baseline: importlib.metadata (stdlib)",
            [python, "-c", read_group_code("importlib.metadata")],
        ),
        TimedCommand("hub --help", [hub, "--help"]),
        TimedCommand("hub list", [hub, "list"]),
    ]


def read_group_code(module: str) -> str:
    return READ_GROUP_TEMPLATE.format(module=module, group=CONNECTOR_GROUP)


def time_commands(commands: list[TimedCommand], repeat: int) -> list[Timing]:
    environment = child_environment()

    # One untimed round fills the page cache and writes any missing bytecode,
    # so the first timed sample is not an outlier.
    for command in commands:
        time_once(command, environment)

    # Interleaving the commands round by round spreads slow periods of the
    # machine over all of them instead of one.
    samples: dict[str, list[float]] = {command.label: [] for command in commands}
    log(f"timing {len(commands)} commands, {repeat} rounds")
    for _ in range(repeat):
        for command in commands:
            samples[command.label].append(time_once(command, environment))

    return [Timing(command.label, samples[command.label]) for command in commands]


def child_environment() -> dict[str, str]:
    environment = dict(os.environ)
    for name in IGNORED_ENVIRONMENT:
        environment.pop(name, None)
    return environment


def time_once(command: TimedCommand, environment: dict[str, str]) -> float:
    """Run the command with stdout sent to /dev/null and return its time in ms."""
    start = time.perf_counter_ns()
    try:
        completed = subprocess.run(
            command.argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=environment,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"{command.label} timed out after {COMMAND_TIMEOUT} s: "
            f"{' '.join(command.argv)}"
        ) from None
    elapsed = time.perf_counter_ns() - start

    if completed.returncode != 0:
        raise SystemExit(
            f"{command.label} failed with exit status {completed.returncode}:\n"
            f"{completed.stderr.decode(errors='replace')}"
        )
    return elapsed / 1e6


def print_report(timings: list[Timing], arguments: argparse.Namespace) -> None:
    by_label = {timing.label: timing for timing in timings}
    hub_list = by_label["hub list"]
    baseline = by_label["baseline: importlib_metadata"]
    stdlib = by_label["baseline: importlib.metadata (stdlib)"]

    print()
    print(f"Python   {platform.python_version()} (venv based on {sys.executable})")
    print(f"Machine  {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"Runs     {arguments.repeat} per command, {arguments.connectors} connectors")
    print()
    print_table(timings)
    print()

    ratio = hub_list.median / baseline.median
    verdict = "met" if ratio <= TARGET_RATIO else "missed"
    print(
        f"hub list / importlib_metadata baseline: {ratio:.2f}x "
        f"(target at most {TARGET_RATIO:.0f}x: {verdict})"
    )
    print(
        "hub list / importlib.metadata baseline: "
        f"{hub_list.median / stdlib.median:.2f}x (for reference)"
    )


def print_table(timings: list[Timing]) -> None:
    width = max(len(timing.label) for timing in timings)
    print(f"{'command':<{width}}  {'median ms':>10}  {'min ms':>10}")
    for timing in timings:
        print(
            f"{timing.label:<{width}}  {timing.median:>10.1f}  {timing.minimum:>10.1f}"
        )


def run_checked(argv: list[str], timeout: float) -> str:
    """Run a set-up command and return its stdout, or exit with its stderr."""
    try:
        completed = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env=child_environment(),
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(
            f"command timed out after {timeout} s: {' '.join(argv)}"
        ) from None
    if completed.returncode != 0:
        raise SystemExit(
            f"command failed with exit status {completed.returncode}: "
            f"{' '.join(argv)}\n{completed.stderr}"
        )
    return completed.stdout


def log(message: str) -> None:
    # Progress goes to stderr so that stdout contains only the report.
    print(f"list_startup: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
