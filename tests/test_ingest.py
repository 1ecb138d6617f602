"""Tests of hub.ingest: what the run's sinks receive for each declared model."""

from datetime import datetime, timezone

import pytest

from hub.ingest import HubIngestStrategy, Progress
from hub.sdk import (
    DeclaredLineage,
    ExternalColumn,
    ExternalTable,
    InternalResource,
    Resource,
)
from hub.validation import Validator


class RecordingSink:
    def __init__(self):
        self.bodies = []

    def write_resource(self, resource, body):
        self.bodies.append(body)

    def write_lineage(self, lineage, body):
        self.bodies.append(body)


CHART = InternalResource(databuilder_id="bi.chart.1")

MODELS = [
    Resource(entity_type="table", databuilder_id="t", schema="s", database="d"),
    Resource(
        entity_type="chart",
        databuilder_id="bi.chart.1",
        parent_databuilder_id="bi.dashboard.1",
        title="Revenue – «weekly»",
        product="bi",
        owners=["a@example.com"],
        external_updated_at=datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc),
    ),
    DeclaredLineage(
        from_identifier=InternalResource(databuilder_id="t"), to_identifier=CHART
    ),
    DeclaredLineage(from_identifier=ExternalTable(table="orders"), to_identifier=CHART),
    DeclaredLineage(
        from_identifier=CHART,
        to_identifier=ExternalColumn(schema="s", table="orders", column="id"),
    ),
]


@pytest.mark.parametrize("model", MODELS)
def test_body_is_upload_json(model):
    sink = RecordingSink()
    ingest = HubIngestStrategy([sink], Progress(), validator=Validator())
    if isinstance(model, Resource):
        ingest.declare_resource(model)
    else:
        ingest.declare_lineage(model)

    # Lineage keys are hashes of this text, so it must not change.
    assert sink.bodies == [model.model_dump_json(exclude_none=True)]
