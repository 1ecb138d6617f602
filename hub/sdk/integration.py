"""The base class every connector subclasses."""

import abc
from typing import Any, ClassVar, Optional

import httpx

from hub.sdk.fields import CredentialField
from hub.sdk.models import DeclaredLineage, Resource
from hub.sdk.strategies import (
    DefaultIngestResourcesStrategy,
    DefaultNetworkCallStrategy,
    IngestResourcesStrategy,
    NetworkCallStrategy,
)


class SecodaIntegration(abc.ABC):
    """A connector: extracts resources and lineage from one tool.

    Subclasses implement :meth:`extract`, read user input from
    ``self.credentials`` (a plain dict), call the API with the ``http_*``
    methods and hand each model to :meth:`declare_resource` or
    :meth:`declare_lineage`. The class docstring is the description the hub
    shows for the connector.

    Beyond ``secodadk`` 0.0.6, a class may declare ``credential_fields`` (what
    the hub prompts for and keeps secret) and ``allowed_hosts`` (the API hosts
    it calls). Both are optional, so a ``secodadk`` class runs unchanged.
    """

    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    allowed_hosts: ClassVar[tuple[str, ...]] = ()

    # The dialect of the source's SQL as sqlglot names it ("postgres",
    # "snowflake", ...); None lets the parser use its default dialect.
    sql_dialect: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        credentials: dict,
        ingest_resources_strategy: Optional[IngestResourcesStrategy] = None,
        network_call_strategy: Optional[NetworkCallStrategy] = None,
    ):
        self.credentials: dict[str, str] = credentials
        self.ingest_resources_strategy: IngestResourcesStrategy = (
            ingest_resources_strategy or DefaultIngestResourcesStrategy()
        )
        self.network_call_strategy: NetworkCallStrategy = (
            network_call_strategy or DefaultNetworkCallStrategy()
        )

    @abc.abstractmethod
    def extract(self):
        """Extract everything from the source, declaring each model found."""

    @classmethod
    def prepare_sql(cls, sql: str) -> str:
        """Return a query as plain SQL, ready for the hub's lineage parser.

        Connectors whose queries carry template syntax (Cluvio's filter
        parameters, for example) override this; the base class returns the
        query unchanged.
        """
        return sql

    def check_connection(self) -> None:
        """Check that the credentials work, without extracting anything.

        A connector overrides this with its cheapest authenticated call (the
        Cluvio connector signs in) and raises :class:`hub.sdk.IntegrationError`
        or :class:`hub.sdk.AuthenticationError` when the check fails. The
        base class defines no check and raises ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} defines no connection check")

    def start(self):
        """Run :meth:`extract`, then :meth:`finalize`."""
        self.extract()
        self.finalize()

    def finalize(self):
        """Flush and close both strategies."""
        self.ingest_resources_strategy.finalize()
        self.network_call_strategy.finalize()

    def declare_resource(self, resource: Resource):
        """Hand one resource (a table, column, dashboard, ...) to the run."""
        self.ingest_resources_strategy.declare_resource(resource)

    def declare_lineage(self, lineage: DeclaredLineage):
        """Hand one lineage edge to the run."""
        self.ingest_resources_strategy.declare_lineage(lineage)

    def http_get(
        self,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        follow_redirects: bool = False,
        verify: bool | str = True,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        return self._request(
            "GET",
            url,
            params=params,
            headers=headers,
            follow_redirects=follow_redirects,
            verify=verify,
            auth=auth,
            timeout=timeout,
        )

    def http_post(
        self,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        follow_redirects: bool = False,
        verify: bool | str = True,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        return self._request(
            "POST",
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            verify=verify,
            auth=auth,
            timeout=timeout,
        )

    # NOTE: ``secodadk`` 0.0.6 drops ``auth`` in ``http_put``; here it is
    # passed on like in every other method.
    def http_put(
        self,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        follow_redirects: bool = False,
        verify: bool | str = True,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        return self._request(
            "PUT",
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            verify=verify,
            auth=auth,
            timeout=timeout,
        )

    def http_patch(
        self,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        follow_redirects: bool = False,
        verify: bool | str = True,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        return self._request(
            "PATCH",
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            verify=verify,
            auth=auth,
            timeout=timeout,
        )

    def http_delete(
        self,
        url: str,
        *,
        params: Optional[dict] = None,
        headers: Optional[dict] = None,
        data: Optional[dict] = None,
        json: Optional[Any] = None,
        follow_redirects: bool = False,
        verify: bool | str = True,
        auth: Optional[httpx.BasicAuth] = None,
        timeout: httpx.Timeout | float | None = None,
    ) -> httpx.Response:
        return self._request(
            "DELETE",
            url,
            params=params,
            headers=headers,
            data=data,
            json=json,
            follow_redirects=follow_redirects,
            verify=verify,
            auth=auth,
            timeout=timeout,
        )

    def _request(
        self,
        method: str,
        url: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        # ``timeout`` goes to the strategy only when set, because a
        # ``secodadk`` network strategy's make_request has no such parameter.
        # It is in seconds, or an ``httpx.Timeout``.
        if timeout is not None:
            kwargs["timeout"] = timeout
        return self.network_call_strategy.make_request(method, url, **kwargs)
