"""Time syncs of a large synthetic connector into a SQLite catalog.

For each N (default 100,000 and 1,000,000) a synthetic warehouse-and-BI
connector declares N resources (tables, columns, dashboards, charts) and N
lineage edges between them. Each measurement runs in a child process of its
own, which reports its wall time, its CPU time (user plus system) and peak
memory (VmHWM):

- baseline: the connector run with ``hub.sdk.strategies``'
  ``DefaultIngestResourcesStrategy``, the same code as secodadk 0.0.6's
  default, printing one JSON line per model to /dev/null;
- first sync: the connector streamed into a new catalog;
- second sync: the same models again, which must rewrite no row.

Each measurement is taken ``--repeat`` times (3 by default), each time in a
new catalog, and the script reports the median of the times and the largest
peak memory. One slow sample, as a busy neighbour on a shared machine can
cause, then moves neither the baseline nor the sync. It prints every sample,
a table of the medians and the ratios the targets are stated in, from wall
time, and the same ratios from CPU time:

    .venv/bin/python benchmarks/catalog_scale.py
    .venv/bin/python benchmarks/catalog_scale.py --sizes 20000 --repeat 1 --keep
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPOSITORY_ROOT))

from hub.sdk import (  # noqa: E402
    DeclaredLineage,
    ExternalTable,
    InternalResource,
    Resource,
    SecodaIntegration,
)

# One block of the synthetic source: 2 tables of 8 columns, one dashboard of
# 6 charts. It declares 25 resources and 25 lineage edges: per chart, one to
# its dashboard, two from columns and one from a table (internal for half of
# the charts, external for the others), plus one between the two tables.
TABLES_PER_BLOCK = 2
COLUMNS_PER_TABLE = 8
CHARTS_PER_BLOCK = 6
BLOCK_SIZE = TABLES_PER_BLOCK * (1 + COLUMNS_PER_TABLE) + 1 + CHARTS_PER_BLOCK

# The environment variable that sets the synthetic connector's resource count.
COUNT_ENV = "CATALOG_SCALE_COUNT"

# A child that runs longer than this is killed, so the benchmark stays bounded.
CHILD_TIMEOUT_SECONDS = 1800


class SyntheticWarehouse(SecodaIntegration):
    """Declares ``$CATALOG_SCALE_COUNT`` resources and as many lineage edges."""

    def extract(self):
        blocks = int(os.environ[COUNT_ENV]) // BLOCK_SIZE
        for block in range(blocks):
            self._declare_block(block)

    def _declare_block(self, block: int) -> None:
        tables = [f"wh.db.s{block % 50}.t{block}_{n}" for n in range(TABLES_PER_BLOCK)]
        for table in tables:
            self._declare_table(block, table)
        dashboard = f"bi.dashboard.{block}"
        self.declare_resource(
            Resource(
                entity_type="dashboard",
                databuilder_id=dashboard,
                title=f"Dashboard {block}",
                description="Weekly figures for one team",
                owners=["analytics@example.com"],
            )
        )
        for chart in range(CHARTS_PER_BLOCK):
            self._declare_chart(block, chart, dashboard, tables[chart % 2])
        self._link(f"{tables[0]}", f"{tables[1]}")

    def _declare_table(self, block: int, table: str) -> None:
        self.declare_resource(
            Resource(
                entity_type="table",
                databuilder_id=table,
                title=table.rsplit(".", 1)[1],
                database="db",
                schema=f"s{block % 50}",
                description="Loaded nightly from the operational database",
            )
        )
        for column in range(COLUMNS_PER_TABLE):
            self.declare_resource(
                Resource(
                    entity_type="column",
                    databuilder_id=f"{table}.c{column}",
                    parent_databuilder_id=table,
                    title=f"c{column}",
                    type="integer" if column % 2 else "text",
                    sort_order=column,
                    is_pk=column == 0,
                )
            )

    def _declare_chart(self, block, chart, dashboard, table) -> None:
        identifier = f"bi.chart.{block}.{chart}"
        self.declare_resource(
            Resource(
                entity_type="chart",
                databuilder_id=identifier,
                parent_databuilder_id=dashboard,
                title=f"Chart {chart} of dashboard {block}",
                product="bi",
                definition=f"select c0, count(*) from {table} group by c0",
            )
        )
        self._link(identifier, dashboard)
        self._link(f"{table}.c{chart}", identifier)
        self._link(f"{table}.c{chart + 1}", identifier)
        if chart < 3:
            self._link(table, identifier)
        else:
            self.declare_lineage(
                DeclaredLineage(
                    from_identifier=ExternalTable(database="raw", table=f"e{block}"),
                    to_identifier=InternalResource(databuilder_id=identifier),
                )
            )

    def _link(self, source: str, target: str) -> None:
        self.declare_lineage(
            DeclaredLineage(
                from_identifier=InternalResource(databuilder_id=source),
                to_identifier=InternalResource(databuilder_id=target),
            )
        )


def peak_memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def process_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def written_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def run_baseline(count: int) -> dict:
    os.environ[COUNT_ENV] = str(count)
    SyntheticWarehouse(credentials={}).start()
    return {}


def run_sync(count: int, location: str) -> dict:
    """Run the connector with ``hub.runner.run``, as ``hub run`` does."""
    from hub.connectors import entry_from_file
    from hub.runner import RunRequest, run

    os.environ[COUNT_ENV] = str(count)
    entry = entry_from_file(f"{__file__}:SyntheticWarehouse")
    report = run(RunRequest(entry, catalog_location=location))
    return {"run_id": report.run_id, "catalog": report.catalog}


def child_main(mode: str, count: int, location: str, result_path: str) -> None:
    started = time.perf_counter()
    cpu_started = process_cpu_seconds()
    extra = run_baseline(count) if mode == "baseline" else run_sync(count, location)
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "cpu_seconds": process_cpu_seconds() - cpu_started,
        "peak_mb": peak_memory_mb(),
        "wchar_bytes": written_bytes(),
        **extra,
    }
    Path(result_path).write_text(json.dumps(result))


def measure(mode: str, count: int, location: Path, work: Path) -> dict:
    result_path = work / f"{mode}-{count}.json"
    command = [sys.executable, __file__, "--child", mode, str(count), str(location)]
    command.append(str(result_path))
    # An empty hub home keeps the user's credential store out of the runs.
    environment = {**os.environ, "SECODA_HUB_HOME": str(work / "hub-home")}
    subprocess.run(
        command,
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=CHILD_TIMEOUT_SECONDS,
        env=environment,
    )
    return json.loads(result_path.read_text())


def rewritten_rows(location: Path, run_id: int) -> int:
    """Count resource and lineage rows whose content the given run wrote."""
    connection = sqlite3.connect(location)
    try:
        return sum(
            connection.execute(
                f"SELECT COUNT(*) FROM {table} WHERE changed_run_id = ?", (run_id,)
            ).fetchone()[0]
            for table in ("resources", "lineage")
        )
    finally:
        connection.close()


def benchmark(count: int, work: Path, repeat: int) -> dict:
    samples = [
        _sample(count, work / f"catalog-{count}-{number}.sqlite", work)
        for number in range(repeat)
    ]
    result = {"count": count, "samples": samples}
    for name in ("baseline", "first", "second"):
        runs = [sample[name] for sample in samples]
        result[name] = {
            "seconds": statistics.median(run["seconds"] for run in runs),
            "cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
            "peak_mb": max(run["peak_mb"] for run in runs),
            "wchar_bytes": statistics.median(run["wchar_bytes"] for run in runs),
        }
        if name != "baseline":
            result[name]["rewritten_rows"] = max(run["rewritten_rows"] for run in runs)
    return result


def _sample(count: int, location: Path, work: Path) -> dict:
    """Measure the baseline, a first sync into ``location`` and a second one."""
    baseline = measure("baseline", count, location, work)
    first = measure("first", count, location, work)
    second = measure("second", count, location, work)
    second["rewritten_rows"] = rewritten_rows(location, second["run_id"])
    first["rewritten_rows"] = rewritten_rows(location, first["run_id"])
    return {"baseline": baseline, "first": first, "second": second}


def print_samples(results: list[dict]) -> None:
    print("| N | sample | baseline s | first s | second s | first-sync speed |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        for number, sample in enumerate(result["samples"], start=1):
            baseline, first = sample["baseline"]["seconds"], sample["first"]["seconds"]
            print(
                f"| {result['count']:,} | {number} | {baseline:.1f} | {first:.1f} |"
                f" {sample['second']['seconds']:.1f} | {baseline / first:.2f} |"
            )
    print()


def print_report(results: list[dict]) -> None:
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}, "
        f"CPython {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )
    print(
        "| N | run | seconds | CPU seconds | models/s | peak MB | rows written |"
        " wchar MB |"
    )
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        models = 2 * result["count"]
        for name in ("baseline", "first", "second"):
            run = result[name]
            rows = run.get("rewritten_rows", "-")
            print(
                f"| {result['count']:,} | {name} | {run['seconds']:.1f} |"
                f" {run['cpu_seconds']:.1f} |"
                f" {models / run['seconds']:,.0f} | {run['peak_mb']:.0f} |"
                f" {rows if rows == '-' else f'{rows:,}'} |"
                f" {run['wchar_bytes'] / 1e6:,.0f} |"
            )
    print()
    print("| N | time | first-sync speed / baseline speed | second / first time |")
    print("| ---: | --- | ---: | ---: |")
    for result in results:
        for label, key in (("wall", "seconds"), ("CPU", "cpu_seconds")):
            first = result["first"][key]
            speed = result["baseline"][key] / first
            second = result["second"][key] / first
            print(f"| {result['count']:,} | {label} | {speed:.2f} | {second:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[100_000, 1_000_000],
        help="Resource counts to benchmark (each also declares as many edges).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="Samples of each measurement; the report gives their median.",
    )
    parser.add_argument(
        "--keep", action="store_true", help="Keep the catalogs in the work directory."
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.repeat < 1:
        parser.error(f"--repeat {arguments.repeat} takes no sample; give 1 or more")
    if arguments.child:
        mode, count, location, result_path = arguments.child
        child_main(mode, int(count), location, result_path)
        return

    with tempfile.TemporaryDirectory(prefix="catalog-scale-") as directory:
        work = Path(directory)
        results = [
            benchmark(count, work, arguments.repeat) for count in arguments.sizes
        ]
        print_samples(results)
        print_report(results)
        print(json.dumps(results))
        if arguments.keep:
            kept = Path(tempfile.mkdtemp(prefix="catalog-scale-kept-"))
            for path in work.glob("catalog-*.sqlite"):
                path.rename(kept / path.name)
            print(f"catalogs kept in {kept}")


if __name__ == "__main__":
    main()
