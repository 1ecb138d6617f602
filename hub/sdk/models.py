"""Models a connector declares: resources and the lineage between them.

Field names, types and defaults match the published ``secodadk`` 0.0.6, so a
connector written against it builds the same objects here and
``model_dump(mode="json")`` gives the same dictionaries.
"""

import warnings
from datetime import datetime
from typing import Annotated, Literal, Optional, Union

import pydantic
from pydantic import Field


class RedactedModel(pydantic.BaseModel):
    """A model whose ``repr`` and validation errors show no stored secret.

    Validation errors leave out the input, and ``repr`` passes through the
    redactor of the running command, which holds every secret value loaded.
    """

    model_config = pydantic.ConfigDict(hide_input_in_errors=True)

    def __repr__(self) -> str:
        from hub.redaction import active_redactor

        return active_redactor()(super().__repr__())

    def __str__(self) -> str:
        from hub.redaction import active_redactor

        return active_redactor()(super().__str__())


ENTITY_TYPES = (
    "database",
    "schema",
    "table",
    "column",
    "dashboard_group",
    "dashboard",
    "chart",
)

# NOTE: Secoda's models name a field ``schema``, which shadows a deprecated
# ``BaseModel`` attribute. Pydantic warns about that once per class; the field
# is part of the upload format, so the name stays and only that warning is
# silenced while the classes are built.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        message='Field name "schema" in ".*" shadows an attribute',
        category=UserWarning,
    )

    class Resource(RedactedModel):
        """One catalog resource: a table, column, dashboard, chart and so on."""

        entity_type: str

        databuilder_id: str
        parent_databuilder_id: Optional[str] = None
        title: Optional[str] = ""
        description: Optional[str] = None
        definition: Optional[str] = None
        external_updated_at: Optional[datetime] = None
        native_type: Optional[str] = None
        owners: Optional[list[str]] = None

        # Columns.
        sort_order: Optional[int] = None
        type: Optional[str] = None
        is_pk: Optional[bool] = False
        hidden: Optional[bool] = False

        # Tables: Secoda requires both for a table.
        schema: Optional[str] = None
        database: Optional[str] = None

        # Dashboards.
        group: Optional[str] = None

        # Charts.
        product: Optional[str] = None

    class InternalResource(RedactedModel):
        """A lineage end that this integration declares as a resource."""

        type: Literal["internal_resource"] = "internal_resource"
        databuilder_id: str

    class ExternalTable(RedactedModel):
        """A lineage end matched by name to a table elsewhere in the workspace."""

        type: Literal["external_table"] = "external_table"
        cluster: Optional[str] = None
        database: Optional[str] = None
        schema: Optional[str] = None
        table: str

    class ExternalColumn(RedactedModel):
        """A lineage end matched by name to a column elsewhere in the workspace."""

        type: Literal["external_column"] = "external_column"
        cluster: Optional[str] = None
        database: Optional[str] = None
        schema: Optional[str] = None
        table: str
        column: str

    class TablesFromSQLQuery(RedactedModel):
        """A lineage source standing for every table a SQL query reads."""

        type: Literal["tables_from_query"] = "tables_from_query"
        sql: str


LineageID = Annotated[
    Union[InternalResource, ExternalTable, ExternalColumn, TablesFromSQLQuery],
    Field(discriminator="type"),
]


class DeclaredLineage(RedactedModel):
    """A lineage edge: data flows from ``from_identifier`` to ``to_identifier``."""

    from_identifier: LineageID
    to_identifier: LineageID
