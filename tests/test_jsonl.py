"""The upload-format files of `hub run --output`."""

import json

from hub.jsonl import JSONLOutput
from hub.sdk import Resource


def declare(output, identifier):
    model = Resource(entity_type="table", databuilder_id=identifier)
    output.write_resource(model, model.model_dump_json(exclude_none=True))


def identifiers(directory):
    lines = (directory / "resources.jsonl").read_text().splitlines()
    return [json.loads(line)["databuilder_id"] for line in lines]


def test_two_runs_into_one_directory(tmp_path):
    first = JSONLOutput(tmp_path)
    second = JSONLOutput(tmp_path)
    declare(first, "a")
    declare(second, "b")
    declare(first, "c")

    first.commit()
    second.abort()

    assert identifiers(tmp_path) == ["a", "c"]
    assert (tmp_path / "lineage.jsonl").read_text() == ""
    assert not list(tmp_path.glob(".*.partial"))


def test_later_commit_replaces_whole_files(tmp_path):
    first = JSONLOutput(tmp_path)
    second = JSONLOutput(tmp_path)
    declare(first, "a")
    declare(second, "b")

    first.commit()
    second.commit()

    assert identifiers(tmp_path) == ["b"]
    assert not list(tmp_path.glob(".*.partial"))
