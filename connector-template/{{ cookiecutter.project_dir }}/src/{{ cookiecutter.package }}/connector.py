"""Extracts dashboards and their charts, with the lineage between them.

The API lists dashboards at ``GET {base_url}/dashboards`` and one dashboard's
charts at ``GET {base_url}/dashboards/{id}/charts``, both with the header
``Authorization: Bearer <api_token>``. Replace these calls with the ones of
the real API.
"""

from urllib.parse import urlsplit

from hub.sdk import (
    AuthenticationError,
    CredentialField,
    DeclaredLineage,
    IntegrationError,
    InternalResource,
    Resource,
    SecodaIntegration,
)

TITLE = {{ cookiecutter.title | py_str }}
DESCRIPTION = {{ cookiecutter.description | py_str }}
DEFAULT_BASE_URL = {{ cookiecutter.base_url | py_str }}
PRODUCT = {{ cookiecutter.name | py_str }}
GROUP_ID = PRODUCT + ".dashboard_group.default"


class {{ cookiecutter.class_name }}(SecodaIntegration):
    __doc__ = DESCRIPTION

    credential_fields = (
        CredentialField("api_token", label=TITLE + " API token", secret=True),
        CredentialField(
            "base_url",
            label="API base URL",
            help="the API server to call",
            required=False,
            default=DEFAULT_BASE_URL,
        ),
    )
    allowed_hosts = (urlsplit(DEFAULT_BASE_URL).hostname,)

    def extract(self):
        base_url = self._base_url()
        auth = {"headers": {"Authorization": f"Bearer {self._token()}"}}
        self._declare_group()

        for dashboard in self._get(f"{base_url}/dashboards", auth):
            dashboard_id = self._declare_dashboard(dashboard)
            charts = self._get(f"{base_url}/dashboards/{dashboard['id']}/charts", auth)
            for chart in charts:
                self._declare_chart(chart, dashboard_id)

    def check_connection(self) -> None:
        """List the dashboards, which proves the token and base URL."""
        auth = {"headers": {"Authorization": f"Bearer {self._token()}"}}
        self._get(f"{self._base_url()}/dashboards", auth)

    def _base_url(self) -> str:
        base_url = (self.credentials.get("base_url") or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise IntegrationError(
                f"base_url {base_url!r} is not an http(s) URL; set it to, "
                f"for example, {DEFAULT_BASE_URL}"
            )
        return base_url

    def _token(self) -> str:
        token = self.credentials.get("api_token")
        if not token:
            raise AuthenticationError(
                "api_token is empty; set it with "
                f"`hub credentials set {PRODUCT} api_token=...`"
            )
        return token

    def _get(self, url: str, auth: dict) -> list:
        response = self.http_get(url, **auth)
        if response.status_code in (401, 403):
            raise AuthenticationError(
                f"GET {url} returned HTTP {response.status_code}; check api_token"
            )
        if not response.is_success:
            raise IntegrationError(f"GET {url} returned HTTP {response.status_code}")
        body = response.json()
        if not isinstance(body, list):
            raise IntegrationError(f"GET {url} returned no JSON list")
        return body

    def _declare_group(self) -> None:
        self.declare_resource(
            Resource(
                entity_type="dashboard_group",
                databuilder_id=GROUP_ID,
                title=TITLE,
            )
        )

    def _declare_dashboard(self, dashboard: dict) -> str:
        databuilder_id = f"{PRODUCT}.dashboard.{dashboard['id']}"
        self.declare_resource(
            Resource(
                entity_type="dashboard",
                databuilder_id=databuilder_id,
                parent_databuilder_id=GROUP_ID,
                title=dashboard.get("name") or "",
                group=TITLE,
                product=PRODUCT,
            )
        )
        self._declare_edge(databuilder_id, GROUP_ID)
        return databuilder_id

    def _declare_chart(self, chart: dict, dashboard_id: str) -> None:
        databuilder_id = f"{PRODUCT}.chart.{chart['id']}"
        self.declare_resource(
            Resource(
                entity_type="chart",
                databuilder_id=databuilder_id,
                parent_databuilder_id=dashboard_id,
                title=chart.get("name") or "",
                product=PRODUCT,
            )
        )
        self._declare_edge(databuilder_id, dashboard_id)

    def _declare_edge(self, source_id: str, target_id: str) -> None:
        self.declare_lineage(
            DeclaredLineage(
                from_identifier=InternalResource(databuilder_id=source_id),
                to_identifier=InternalResource(databuilder_id=target_id),
            )
        )
