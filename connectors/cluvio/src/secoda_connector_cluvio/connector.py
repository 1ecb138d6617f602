"""Extracts a Cluvio account: dashboards, their reports as charts, and lineage.

Uses Cluvio's session API: ``POST /users/sign_in`` returns a token, which
later requests send in a header named ``token``. Collections are JSON:API
documents (``{"data": [...]}``); a dashboard's document lists its reports in
``included``.
"""

from urllib.parse import urlsplit

import httpx

from hub.sdk import (
    AuthenticationError,
    CredentialField,
    DeclaredLineage,
    IntegrationError,
    InternalResource,
    Resource,
    SecodaIntegration,
    TablesFromSQLQuery,
)
from secoda_connector_cluvio.sql import replace_parameters

DEFAULT_BASE_URL = "https://api.cluvio.com"
PRODUCT = "cluvio"
GROUP_ID = "cluvio.dashboard_group.default"


class CluvioIntegration(SecodaIntegration):
    """Cluvio dashboards and reports, with the tables each report's SQL reads."""

    credential_fields = (
        CredentialField("email", label="Cluvio account email"),
        CredentialField("password", label="Cluvio password", secret=True),
        CredentialField(
            "base_url",
            label="API base URL",
            help="the API server of your account's location, or of a private cloud",
            required=False,
            default=DEFAULT_BASE_URL,
        ),
    )
    # Cluvio serves accounts from a US and an EU deployment, each with its own
    # servers. api.cluvio.com is the documented default. NOTE: the EU API host
    # name is not in the public material read so far, so the wildcard allows
    # every host under cluvio.com: that covers both deployments and keeps the
    # password and token inside Cluvio's own domain. An EU account sets
    # ``base_url`` to its API server and needs no --allow-host.
    allowed_hosts = ("api.cluvio.com", "*.cluvio.com")

    # Report SQL carries Cluvio's filter parameters, which the hub's SQL
    # parser must see as plain SQL.
    prepare_sql = staticmethod(replace_parameters)

    def extract(self):
        base_url = self._base_url()
        auth = self._sign_in(base_url)
        self._declare_group()

        for dashboard in self._get_json(f"{base_url}/dashboards", auth).get("data", []):
            dashboard_id = self._declare_dashboard(dashboard)
            detail = self._get_json(f"{base_url}/dashboards/{dashboard['id']}", auth)
            for report in _included_reports(detail):
                self._declare_report(report, dashboard_id)

    def check_connection(self) -> None:
        """Sign in, which proves the email, password and base URL."""
        self._sign_in(self._base_url())

    def _base_url(self) -> str:
        base_url = (self.credentials.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise IntegrationError(
                f"base_url {base_url!r} is not an http(s) URL; set it to, "
                f"for example, {DEFAULT_BASE_URL}"
            )
        return base_url

    def _sign_in(self, base_url: str) -> dict:
        response = self.http_post(
            f"{base_url}/users/sign_in",
            json={
                "user": {
                    "email": self.credentials.get("email"),
                    "password": self.credentials.get("password"),
                }
            },
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        if not response.is_success:
            raise AuthenticationError(
                f"sign-in failed for {base_url}: HTTP {response.status_code}; "
                "check the email and password with `hub credentials set cluvio`"
            )
        token = _json(response).get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError(f"sign-in at {base_url} returned no token")
        return dict(headers={"token": token, "Accept": "application/json"}, verify=True)

    def _get_json(self, url: str, auth: dict) -> dict:
        response = self.http_get(url, **auth)
        if not response.is_success:
            raise IntegrationError(f"GET {url} returned HTTP {response.status_code}")
        return _json(response)

    def _declare_group(self) -> None:
        self.declare_resource(
            Resource(
                entity_type="dashboard_group",
                databuilder_id=GROUP_ID,
                title="Cluvio",
                native_type="dashboard_group",
            )
        )

    def _declare_dashboard(self, dashboard: dict) -> str:
        databuilder_id = f"cluvio.dashboard.{dashboard['id']}"
        attributes = dashboard.get("attributes") or {}
        self.declare_resource(
            Resource(
                entity_type="dashboard",
                databuilder_id=databuilder_id,
                parent_databuilder_id=GROUP_ID,
                title=attributes.get("name") or "",
                description=attributes.get("description"),
                external_updated_at=attributes.get("updated_at"),
                native_type="dashboard",
                group="Cluvio",
                product=PRODUCT,
            )
        )
        self._declare_edge(InternalResource(databuilder_id=databuilder_id), GROUP_ID)
        return databuilder_id

    def _declare_report(self, report: dict, dashboard_id: str) -> None:
        databuilder_id = f"cluvio.report.{report['id']}"
        attributes = report.get("attributes") or {}
        query = attributes.get("query")
        self.declare_resource(
            Resource(
                entity_type="chart",
                databuilder_id=databuilder_id,
                parent_databuilder_id=dashboard_id,
                title=attributes.get("name") or "",
                definition=query,
                external_updated_at=attributes.get("updated_at"),
                native_type="report",
                product=PRODUCT,
            )
        )
        self._declare_edge(
            InternalResource(databuilder_id=databuilder_id), dashboard_id
        )
        if query:
            self._declare_edge(TablesFromSQLQuery(sql=query), databuilder_id)

    def _declare_edge(self, source, target_id: str) -> None:
        self.declare_lineage(
            DeclaredLineage(
                from_identifier=source,
                to_identifier=InternalResource(databuilder_id=target_id),
            )
        )


def _included_reports(document: dict) -> list[dict]:
    return [
        item for item in document.get("included", []) if item.get("type") == "reports"
    ]


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        raise IntegrationError(
            f"{response.request.method} {response.request.url.path} did not return JSON"
        ) from None
    if not isinstance(body, dict):
        raise IntegrationError(
            f"{response.request.url.path} returned a non-object JSON body"
        )
    return body
