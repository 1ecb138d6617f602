"""The connector SDK: what a connector imports.

A connector written against ``secodadk`` 0.0.6 runs here once its import line
reads ``from hub.sdk import ...``.
"""

from hub.errors import (
    AuthenticationError,
    EgressDeniedError,
    FatalHTTPError,
    HTTPError,
    IntegrationError,
    PaginationError,
    RetriableHTTPError,
)
from hub.sdk.fields import CredentialField
from hub.sdk.integration import SecodaIntegration
from hub.sdk.models import (
    ENTITY_TYPES,
    DeclaredLineage,
    ExternalColumn,
    ExternalTable,
    InternalResource,
    LineageID,
    Resource,
    TablesFromSQLQuery,
)
from hub.sdk.pagination import paginate_cursor, paginate_links, paginate_pages
from hub.sdk.strategies import IngestResourcesStrategy, NetworkCallStrategy

__all__ = [
    "ENTITY_TYPES",
    "AuthenticationError",
    "CredentialField",
    "DeclaredLineage",
    "EgressDeniedError",
    "ExternalColumn",
    "ExternalTable",
    "FatalHTTPError",
    "HTTPError",
    "IngestResourcesStrategy",
    "IntegrationError",
    "InternalResource",
    "LineageID",
    "NetworkCallStrategy",
    "PaginationError",
    "Resource",
    "RetriableHTTPError",
    "SecodaIntegration",
    "TablesFromSQLQuery",
    "paginate_cursor",
    "paginate_links",
    "paginate_pages",
]
