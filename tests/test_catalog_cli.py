"""``hub runs`` and ``hub catalog``, on SQLite and on PostgreSQL."""

import json
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from conftest import read_jsonl, run_hub_process
from hub.catalog import lineage_ref, open_catalog
from hub.catalog.queries import MAX_LINEAGE_DEPTH, MAX_TREE_NODES
from hub.catalog.schema import runs
from hub.cli.catalog import catalog_group, lineage_command, runs_command
from hub.sdk import (
    DeclaredLineage,
    ExternalTable,
    InternalResource,
    Resource,
    TablesFromSQLQuery,
)

# The fixtures that run each test on SQLite and on PostgreSQL.
pytest_plugins = ["test_catalog_backends"]

SQL = "select * from shop.public.orders join shop.public.customers using (id)"


def body(model):
    return model.model_dump_json(exclude_none=True)


def internal(identifier):
    return InternalResource(databuilder_id=identifier)


def write_sync(catalog, connector, resources, edges=(), derived=(), profile="default"):
    run_id = catalog.begin_run(connector, profile, "dist", "1.0")
    writer = catalog.open_sync(run_id, connector, profile, allow_mass_stale=True)
    for model in resources:
        writer.write_resource(model, body(model))
    for model in edges:
        writer.write_lineage(model, body(model))
    for model, source in derived:
        writer.write_derived_lineage(model, body(model), body(source))
    writer.commit()


def bi_models():
    group = Resource(entity_type="dashboard_group", databuilder_id="bi.group")
    dashboard = Resource(
        entity_type="dashboard",
        databuilder_id="bi.dash",
        title="Revenue",
        parent_databuilder_id="bi.group",
    )
    chart = Resource(
        entity_type="chart",
        databuilder_id="bi.chart",
        title="Orders by week",
        parent_databuilder_id="bi.dash",
    )
    old = Resource(entity_type="chart", databuilder_id="bi.old", title="Retired")
    return group, dashboard, chart, old


def bi_lineage():
    query = DeclaredLineage(
        from_identifier=TablesFromSQLQuery(sql=SQL),
        to_identifier=internal("bi.chart"),
    )
    resolved = [
        DeclaredLineage(
            from_identifier=ExternalTable(database="shop", schema="public", table=name),
            to_identifier=internal("bi.chart"),
        )
        for name in ("customers", "orders")
    ]
    edges = [
        query,
        DeclaredLineage(
            from_identifier=internal("bi.chart"), to_identifier=internal("bi.dash")
        ),
        DeclaredLineage(
            from_identifier=internal("bi.dash"), to_identifier=internal("bi.group")
        ),
    ]
    return edges, [(model, query) for model in resolved]


@pytest.fixture
def filled(catalog_location):
    """A catalog with two syncs of ``bi`` (one stale chart) and one of ``other``."""
    catalog = open_catalog(catalog_location)
    try:
        group, dashboard, chart, old = bi_models()
        edges, derived = bi_lineage()
        write_sync(catalog, "bi", [group, dashboard, chart, old])
        write_sync(catalog, "bi", [group, dashboard, chart], edges, derived)
        shared = Resource(entity_type="table", databuilder_id="bi.chart")
        write_sync(catalog, "other", [shared])
    finally:
        catalog.close()
    return catalog_location


def invoke(command, *args):
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_runs_lists_history(filled):
    result = invoke(runs_command, "--catalog", filled)

    lines = result.output.splitlines()
    assert result.exit_code == 0, result.output
    assert lines[0].split()[:4] == ["ID", "CONNECTOR", "PROFILE", "STATUS"]
    assert len(lines) == 4


def test_runs_filters_by_name(filled):
    result = invoke(runs_command, "other", "--catalog", filled, "--json")

    history = json.loads(result.output)
    assert [run["connector"] for run in history] == ["other"]
    assert history[0]["status"] == "succeeded"
    assert history[0]["resources"] == 1
    assert history[0]["duration_seconds"] >= 0


def test_runs_shows_interrupted(filled):
    dead = subprocess.Popen(["true"])
    dead.wait()
    catalog = open_catalog(filled)
    try:
        run_id = catalog.begin_run("bi", "default", None, None)
        alive = catalog.begin_run("bi", "default", None, None)
        with catalog.write() as connection:
            connection.execute(
                update(runs).where(runs.c.id == run_id).values(pid=dead.pid)
            )
    finally:
        catalog.close()

    history = json.loads(invoke(runs_command, "--catalog", filled, "--json").output)
    status = {run["id"]: run["status"] for run in history}
    assert status[run_id] == "interrupted"
    assert status[alive] == "running"


def test_runs_missing_catalog(tmp_path):
    result = invoke(runs_command, "--catalog", str(tmp_path / "none.sqlite"))

    assert result.exit_code == 0
    assert "no catalog exists yet at" in result.output
    assert not (tmp_path / "none.sqlite").exists()


def test_resources_filter_by_type(filled):
    result = invoke(
        catalog_group, "resources", "--catalog", filled, "--type", "chart", "--json"
    )

    rows = json.loads(result.output)
    assert sorted(row["databuilder_id"] for row in rows) == ["bi.chart", "bi.old"]


def test_resources_stale_only(filled):
    result = invoke(
        catalog_group, "resources", "--catalog", filled, "--stale", "--json"
    )

    assert [row["databuilder_id"] for row in json.loads(result.output)] == ["bi.old"]


def test_resources_search_title(filled):
    result = invoke(
        catalog_group, "resources", "--catalog", filled, "--search", "REVENUE"
    )

    assert result.exit_code == 0
    assert "bi.dash" in result.output
    assert "bi.chart" not in result.output


def test_resources_search_ignores_case_beyond_ascii(catalog_location):
    catalog = open_catalog(catalog_location)
    try:
        titles = {"de.1": "Ärger im Büro", "de.2": "ärger", "de.3": "Arger"}
        models = [
            Resource(entity_type="dashboard", databuilder_id=key, title=title)
            for key, title in titles.items()
        ]
        write_sync(catalog, "de", models)
    finally:
        catalog.close()

    result = invoke(
        catalog_group, "resources", "--catalog", catalog_location, "--search", "ÄRGER"
    )

    assert result.exit_code == 0, result.output
    assert "de.1" in result.output
    assert "de.2" in result.output
    assert "de.3" not in result.output


def test_resources_limit_and_connector(filled):
    result = invoke(
        catalog_group,
        "resources",
        "--catalog",
        filled,
        "--connector",
        "bi",
        "--limit",
        "2",
        "--json",
    )

    rows = json.loads(result.stdout)
    assert len(rows) == 2
    assert {row["connector"] for row in rows} == {"bi"}
    assert result.stderr == (
        "note: more resources match; these are the first 2. Pass a larger "
        "--limit (at most 10,000,000) or narrower filters\n"
    )


def test_resources_within_limit_has_no_note(filled):
    result = invoke(
        catalog_group, "resources", "--catalog", filled, "--connector", "bi"
    )

    assert result.exit_code == 0
    assert result.stderr == ""


def test_resources_bad_limit_usage_error(filled):
    result = invoke(catalog_group, "resources", "--catalog", filled, "--limit", "0")

    assert result.exit_code == 2


def test_show_ambiguous_lists_choices(filled):
    result = invoke(catalog_group, "show", "bi.chart", "--catalog", filled)

    assert result.exit_code == 2
    assert "--connector bi --profile default" in result.output
    assert "--connector other --profile default" in result.output


def sync_profile_with_space(location):
    """Sync bi.chart of ``bi`` under profile "eu west".

    Only the CLI checks profile names, so a library run can store this one.
    """
    catalog = open_catalog(location)
    try:
        chart = Resource(entity_type="chart", databuilder_id="bi.chart")
        write_sync(catalog, "bi", [chart], profile="eu west")
    finally:
        catalog.close()


def test_show_ambiguous_quotes_profile(filled):
    sync_profile_with_space(filled)

    result = invoke(catalog_group, "show", "bi.chart", "--catalog", filled)

    assert result.exit_code == 2
    assert "--connector bi --profile 'eu west'" in result.output


def test_show_resource_fields(filled):
    result = invoke(
        catalog_group,
        "show",
        "bi.chart",
        "--connector",
        "bi",
        "--catalog",
        filled,
        "--json",
    )

    shown = json.loads(result.output)
    assert shown["body"]["title"] == "Orders by week"
    assert shown["parent_databuilder_id"] == "bi.dash"
    assert len(shown["lineage_in"]) == 3
    assert [edge["to_ref"] for edge in shown["lineage_out"]] == ["bi.dash"]


def test_show_children(filled):
    result = invoke(catalog_group, "show", "bi.group", "--catalog", filled)

    assert result.exit_code == 0
    assert "children: bi.dash" in result.output


def test_show_unknown_id(filled):
    result = invoke(catalog_group, "show", "nope", "--catalog", filled)

    assert result.exit_code == 2
    assert "'nope'" in result.output


def test_lineage_upstream_tree(filled):
    result = invoke(
        catalog_group, "lineage", "bi.group", "--upstream", "--catalog", filled
    )

    query_ref = lineage_ref(TablesFromSQLQuery(sql=SQL))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "bi.group",
        "└── bi.dash (internal_resource)",
        "    └── bi.chart (internal_resource)",
        f"        └── {query_ref} (tables_from_query)",
        "            ├── shop.public.customers (external_table, resolved from SQL)",
        "            └── shop.public.orders (external_table, resolved from SQL)",
    ]


def test_lineage_depth_limits_tree(filled):
    result = invoke(
        catalog_group,
        "lineage",
        "bi.group",
        "--upstream",
        "--depth",
        "1",
        "--catalog",
        filled,
        "--json",
    )

    tree = json.loads(result.output)
    assert [child["ref"] for child in tree["children"]] == ["bi.dash"]
    assert tree["children"][0]["children"] == []


def test_lineage_depth_capped():
    depth = next(p for p in lineage_command.params if p.name == "depth")

    result = invoke(
        catalog_group, "lineage", "bi.group", "--upstream", "--depth", "101"
    )

    assert depth.type.max == MAX_LINEAGE_DEPTH
    assert result.exit_code == 2
    assert "1<=x<=100" in result.output


def chain(length):
    """Resources c0 to c{length}, each feeding the next."""
    nodes = [
        Resource(entity_type="table", databuilder_id=f"c{n}") for n in range(length + 1)
    ]
    edges = [
        DeclaredLineage(
            from_identifier=internal(f"c{n}"), to_identifier=internal(f"c{n + 1}")
        )
        for n in range(length)
    ]
    return nodes, edges


def tree_depth(node):
    return 1 + max((tree_depth(child) for child in node["children"]), default=0)


def test_lineage_walks_longest_chain(catalog_location):
    catalog = open_catalog(catalog_location)
    try:
        write_sync(catalog, "wh", *chain(MAX_LINEAGE_DEPTH + 5))
    finally:
        catalog.close()

    result = invoke(
        catalog_group,
        "lineage",
        "c0",
        "--downstream",
        "--depth",
        str(MAX_LINEAGE_DEPTH),
        "--catalog",
        catalog_location,
        "--json",
    )

    assert result.exit_code == 0, result.output
    tree = json.loads(result.stdout)
    assert tree_depth(tree) == MAX_LINEAGE_DEPTH + 1
    assert "truncated" not in tree


def count_nodes(node):
    return sum(1 + count_nodes(child) for child in node["children"])


def test_lineage_tree_stops_at_node_limit(catalog_location):
    # Two resources per level, each feeding both of the next level's, so the
    # number of paths doubles with every level.
    levels = 20
    nodes = [
        Resource(entity_type="table", databuilder_id=f"l{level}.{side}")
        for level in range(levels + 1)
        for side in (0, 1)
    ]
    edges = [
        DeclaredLineage(
            from_identifier=internal(f"l{level}.{source}"),
            to_identifier=internal(f"l{level + 1}.{target}"),
        )
        for level in range(levels)
        for source in (0, 1)
        for target in (0, 1)
    ]
    catalog = open_catalog(catalog_location)
    try:
        write_sync(catalog, "wh", nodes, edges)
    finally:
        catalog.close()
    arguments = ["lineage", "l0.0", "--downstream", "--depth", str(levels)]
    arguments += ["--catalog", catalog_location]

    as_json = invoke(catalog_group, *arguments, "--json")
    as_tree = invoke(catalog_group, *arguments)

    tree = json.loads(as_json.stdout)
    assert as_json.exit_code == 0
    assert tree["truncated"] is True
    assert count_nodes(tree) == MAX_TREE_NODES
    assert f"stops at its first {MAX_TREE_NODES:,} ends" in as_json.stderr
    assert len(as_tree.stdout.splitlines()) == MAX_TREE_NODES + 1


def test_lineage_downstream_from_chart(filled):
    result = invoke(
        catalog_group,
        "lineage",
        "bi.chart",
        "--downstream",
        "--connector",
        "bi",
        "--catalog",
        filled,
    )

    assert result.output.splitlines() == [
        "bi.chart",
        "└── bi.dash (internal_resource)",
        "    └── bi.group (internal_resource)",
    ]


def test_lineage_needs_direction(filled):
    result = invoke(catalog_group, "lineage", "bi.group", "--catalog", filled)

    assert result.exit_code == 2
    assert "--upstream or --downstream" in result.output


def test_lineage_help_requires_direction():
    result = invoke(catalog_group, "lineage", "--help")

    help_text = " ".join(result.output.split())
    assert result.exit_code == 0
    assert "Required: walk towards the sources of ID (--upstream)" in help_text
    assert "Give a direction, --upstream or --downstream." in help_text


def test_export_upload_format(filled, tmp_path):
    target = tmp_path / "upload"
    result = invoke(
        catalog_group, "export", str(target), "--connector", "bi", "--catalog", filled
    )

    resources = read_jsonl(target / "resources.jsonl")
    lineage = read_jsonl(target / "lineage.jsonl")
    assert result.exit_code == 0, result.output
    assert sorted(row["databuilder_id"] for row in resources) == [
        "bi.chart",
        "bi.dash",
        "bi.group",
    ]
    assert len(lineage) == 3
    assert {row["from_identifier"]["type"] for row in lineage} == {
        "tables_from_query",
        "internal_resource",
    }


def test_export_leaves_no_temporary(filled, tmp_path):
    target = tmp_path / "upload"
    invoke(
        catalog_group, "export", str(target), "--connector", "bi", "--catalog", filled
    )

    assert sorted(path.name for path in target.iterdir()) == [
        "lineage.jsonl",
        "resources.jsonl",
    ]


def test_export_json_counts(filled, tmp_path):
    result = invoke(
        catalog_group,
        "export",
        str(tmp_path / "other"),
        "--connector",
        "other",
        "--catalog",
        filled,
        "--json",
    )

    assert json.loads(result.output) == {
        "directory": str(tmp_path / "other"),
        "connector": "other",
        "profile": "default",
        "resources.jsonl": 1,
        "lineage.jsonl": 0,
    }


def test_export_needs_one_profile(filled, tmp_path):
    sync_profile_with_space(filled)
    target = tmp_path / "upload"

    every = invoke(catalog_group, "export", str(target), "--catalog", filled)
    bi = invoke(
        catalog_group, "export", str(target), "--connector", "bi", "--catalog", filled
    )

    assert every.exit_code == 2
    assert "fresh rows of 3 connector profiles, and an upload describes one" in (
        every.output
    )
    assert bi.exit_code == 2
    assert "fresh rows of 2 connector profiles matching connector 'bi'" in bi.output
    assert "--connector bi --profile 'eu west'" in bi.output
    assert "--connector bi --profile default" in bi.output
    assert not target.exists()


def test_export_unknown_connector_fails(filled, tmp_path):
    target = tmp_path / "upload"

    result = invoke(
        catalog_group, "export", str(target), "--connector", "bl", "--catalog", filled
    )

    assert result.exit_code == 2
    assert "the catalog has no fresh rows of connector 'bl'" in result.output
    assert "`hub runs` lists" in result.output
    assert not target.exists()


def test_control_characters_escaped_in_output(catalog_location):
    # Titles and other fields come from the connector unchecked.
    catalog = open_catalog(catalog_location)
    try:
        dashboard = Resource(
            entity_type="dashboard",
            databuilder_id="bi.dash",
            title="Revenue\r\x1b[2JFake",
            description="first line\nsecond line",
        )
        write_sync(catalog, "bi", [dashboard])
    finally:
        catalog.close()

    table = run_hub_process("catalog", "resources", "--catalog", catalog_location)
    shown = run_hub_process("catalog", "show", "bi.dash", "--catalog", catalog_location)

    assert table.returncode == 0, table.stderr
    assert "\x1b" not in table.stdout
    # Read with universal newlines, a raw carriage return would split the row.
    assert "Revenue\\r\\x1b[2JFake" in table.stdout.splitlines()[1]
    assert "title: Revenue\\r\\x1b[2JFake\n" in shown.stdout
    assert "description: first line\nsecond line\n" in shown.stdout
