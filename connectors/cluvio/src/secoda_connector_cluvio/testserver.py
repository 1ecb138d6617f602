"""Serve a generated Cluvio account over HTTP for tests, benchmarks and demos.

The server implements the part of Cluvio's session API that the connector uses:
``POST /users/sign_in``, then ``GET /dashboards``, ``GET /dashboards/<id>``,
``GET /datasources`` and ``GET /datasources/<id>`` with the session token in a
request header named ``token``. Bodies follow the JSON:API layout of Cluvio's
responses (``data``, ``attributes``, ``relationships``, ``included``). Where public
material does not show a detail, a comment says so at the spot the server fills it in.

Example::

    account = generate_account(10, seed=1)
    with CluvioTestServer(account, email="a@example.com", password="pw") as server:
        base_url = server.url  # for example "http://127.0.0.1:40123"

Run ``python -m secoda_connector_cluvio.testserver --help`` for the command line.
Only the Python standard library is used, so the module runs without any other
package installed.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import logging
import os
import random
import secrets
import signal
import socket
import socketserver
import string
import sys
import textwrap
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

logger = logging.getLogger(__name__)

DEFAULT_EMAIL = "demo@example.com"
DEFAULT_PASSWORD = "cluvio-demo-password"

# Cluvio ids are lower-case letters and digits in dash-separated groups of four,
# such as "8qxn-y9mk-p5vd".
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_GROUPS = 3
_ID_GROUP_LENGTH = 4

# All generated timestamps fall in the year before this instant, so a seed always
# gives the same values, whatever the date of the run.
_NEWEST_TIMESTAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
_TIMESTAMP_SPAN_SECONDS = 365 * 24 * 3600

# Share of a dashboard's reports drawn from the dashboard's own business area. The
# rest come from any area, as on real dashboards that mix topics.
_SAME_AREA_REPORT_SHARE = 0.7

# Share of a dashboard's reports that query the dashboard's main datasource.
_MAIN_DATASOURCE_SHARE = 0.8

# Maximum request body size in bytes. A sign-in body is well under 1 KiB, and the
# limit keeps a broken client from making a handler thread buffer an unbounded body.
_MAX_BODY_BYTES = 64 * 1024

# Seconds an idle keep-alive connection stays open before its handler thread
# closes it, so that clients that never close their connections do not pile up
# threads in a long-running demo server.
_IDLE_CONNECTION_TIMEOUT_SECONDS = 120.0

# Seconds between checks for a shutdown request in serve_forever. It bounds how long
# stop() waits for the serving thread.
_SHUTDOWN_POLL_SECONDS = 0.05

_STOP_JOIN_TIMEOUT_SECONDS = 5.0


# --------------------------------------------------------------------------------------
# Account model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Datasource:
    """A database connection that reports query."""

    id: str
    name: str


@dataclass(frozen=True)
class Report:
    """A report (chart or table) on one dashboard, defined by one SQL query.

    ``referenced_tables`` lists the tables the query reads as dotted names, with
    identifier quotes removed and letter case kept (``"billing"."Plan Changes"``
    becomes ``billing.Plan Changes``). CTE and subquery names are not included. It is
    not part of any HTTP response. Tests use it as the expected SQL lineage.
    """

    id: str
    name: str
    query: str
    updated_at: str
    dashboard_id: str
    datasource_id: str
    referenced_tables: tuple[str, ...]


@dataclass(frozen=True)
class Dashboard:
    """A dashboard and the ids of its reports, in display order."""

    id: str
    name: str
    description: str | None
    updated_at: str
    report_ids: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    """A generated Cluvio account: dashboards, their reports and the datasources."""

    dashboards: tuple[Dashboard, ...]
    reports: tuple[Report, ...]
    datasources: tuple[Datasource, ...]

    @property
    def dashboard_count(self) -> int:
        """Number of dashboards in the account."""
        return len(self.dashboards)

    @property
    def report_count(self) -> int:
        """Number of reports across all dashboards."""
        return len(self.reports)

    @property
    def datasource_count(self) -> int:
        """Number of datasources in the account."""
        return len(self.datasources)


# --------------------------------------------------------------------------------------
# Generated content
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _QueryTemplate:
    name: str
    area: str
    sql: str
    tables: tuple[str, ...]


def _template(name: str, area: str, tables: Sequence[str], sql: str) -> _QueryTemplate:
    return _QueryTemplate(name, area, textwrap.dedent(sql).strip(), tuple(tables))


# Report queries over one fixed set of warehouse tables. They mix plain table names,
# schema.table, database.schema.table and quoted identifiers, with CTEs, joins and
# subqueries. Most bind Cluvio filters in curly braces: conditions such as
# {created_at=timerange} or {[o.created_at]=timerange}, transformations such as
# {created_at:aggregation} and values such as {reporting_period.start}. The names
# timerange and aggregation are Cluvio's built-in filters, and all other filter
# names are custom filters.
_QUERY_TEMPLATES: tuple[_QueryTemplate, ...] = (
    _template(
        "Orders over Time",
        "Sales",
        ["orders"],
        """
        SELECT {[o.created_at]:aggregation} AS period, COUNT(*) AS order_count
        FROM orders o
        WHERE {[o.created_at]=timerange}
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    _template(
        "Revenue by Product Category",
        "Sales",
        ["order_items", "products", "orders"],
        """
        SELECT p.category, SUM(oi.quantity * oi.unit_price) AS revenue
        FROM order_items oi
        JOIN products p ON p.id = oi.product_id
        JOIN orders o ON o.id = oi.order_id
        WHERE {[o.created_at]=timerange} AND {[p.category]=product_categories}
        GROUP BY p.category
        ORDER BY revenue DESC
        """,
    ),
    _template(
        "Top 10 Customers by Lifetime Value",
        "Sales",
        ["customers", "orders"],
        """
        SELECT c.name, c.country, SUM(o.total_amount) AS lifetime_value
        FROM customers c
        JOIN orders o ON o.customer_id = c.id
        WHERE {[c.country]=countries}
        GROUP BY c.name, c.country
        ORDER BY lifetime_value DESC
        LIMIT 10
        """,
    ),
    _template(
        "Average Order Value",
        "Sales",
        ["orders"],
        """
        SELECT {created_at:aggregation} AS period, AVG(total_amount) AS avg_order_value
        FROM orders
        WHERE {created_at=timerange} AND {status=order_statuses}
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    _template(
        "Orders since Start of Period",
        "Sales",
        ["orders"],
        """
        SELECT COUNT(*) AS order_count, SUM(total_amount) AS revenue
        FROM orders
        WHERE created_at >= {reporting_period.start}
        """,
    ),
    _template(
        "New Customers per Week",
        "Sales",
        ["customers"],
        """
        SELECT DATE_TRUNC('week', created_at) AS week, COUNT(*) AS new_customers
        FROM customers
        WHERE created_at >= CURRENT_DATE - INTERVAL '90 days'
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    _template(
        "Campaign Cost per Signup",
        "Marketing",
        ["marketing.ad_spend", "web.sessions", "marketing.campaigns"],
        """
        WITH spend AS (
            SELECT campaign_id, SUM(cost) AS cost
            FROM marketing.ad_spend
            WHERE {spend_date=timerange}
            GROUP BY campaign_id
        ),
        signups AS (
            SELECT campaign_id, COUNT(*) AS signups
            FROM web.sessions
            WHERE converted AND {started_at=timerange}
            GROUP BY campaign_id
        )
        SELECT
            c.name,
            s.cost,
            g.signups,
            s.cost / NULLIF(g.signups, 0) AS cost_per_signup
        FROM marketing.campaigns c
        JOIN spend s ON s.campaign_id = c.id
        LEFT JOIN signups g ON g.campaign_id = c.id
        WHERE {[c.channel]=marketing_channels}
        ORDER BY cost_per_signup
        """,
    ),
    _template(
        "Average Pages per Session by Country",
        "Marketing",
        ["web.page_views", "web.sessions"],
        """
        SELECT country, AVG(views) AS pages_per_session
        FROM (
            SELECT s.country, v.session_id, COUNT(*) AS views
            FROM web.page_views v
            JOIN web.sessions s ON s.id = v.session_id
            WHERE {[v.viewed_at]=timerange}
            GROUP BY s.country, v.session_id
        ) per_session
        GROUP BY country
        ORDER BY pages_per_session DESC
        """,
    ),
    _template(
        "Sessions by Channel",
        "Marketing",
        ["web.sessions", "marketing.campaigns"],
        """
        SELECT {[s.started_at]:aggregation} AS period, c.channel, COUNT(*) AS sessions
        FROM web.sessions s
        LEFT JOIN marketing.campaigns c ON c.id = s.campaign_id
        WHERE {[s.started_at]=timerange}
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
    ),
    _template(
        "Ticket Resolution Time",
        "Support",
        ["support.tickets"],
        """
        SELECT
            {opened_at:aggregation} AS period,
            priority,
            AVG(EXTRACT(EPOCH FROM resolved_at - opened_at) / 3600) AS avg_hours
        FROM support.tickets
        WHERE resolved_at IS NOT NULL
            AND {opened_at=timerange}
            AND {priority=ticket_priorities}
        GROUP BY 1, 2
        ORDER BY 1
        """,
    ),
    _template(
        "Open Tickets by Team",
        "Support",
        ["support.tickets"],
        """
        SELECT t.team, COUNT(*) AS open_tickets
        FROM support.tickets t
        WHERE t.status <> 'closed'
        GROUP BY t.team
        ORDER BY open_tickets DESC
        """,
    ),
    _template(
        "Daily Net Revenue",
        "Finance",
        ["analytics.finance.revenue_daily"],
        """
        SELECT
            {revenue_date:aggregation} AS period,
            SUM(net_revenue) AS net_revenue,
            SUM(refunds) AS refunds
        FROM analytics.finance.revenue_daily
        WHERE {revenue_date=timerange}
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    _template(
        "Invoice Aging",
        "Finance",
        ["sales.invoices"],
        """
        SELECT
            CASE
                WHEN CURRENT_DATE - due_date <= 30 THEN '0-30 days'
                WHEN CURRENT_DATE - due_date <= 60 THEN '31-60 days'
                ELSE 'over 60 days'
            END AS age_bucket,
            COUNT(*) AS invoices,
            SUM(amount_due) AS amount_due
        FROM sales.invoices
        WHERE status = 'open' AND {issued_at=timerange}
        GROUP BY 1
        ORDER BY 1
        """,
    ),
    _template(
        "Payments by Method",
        "Finance",
        ["payments"],
        """
        SELECT method, COUNT(*) AS payments, SUM(amount) AS amount
        FROM payments
        WHERE {paid_at=timerange}
        GROUP BY method
        ORDER BY amount DESC
        """,
    ),
    _template(
        "Orders without Payment",
        "Finance",
        ["orders", "payments"],
        """
        SELECT o.id, o.created_at, o.total_amount
        FROM orders o
        WHERE NOT EXISTS (SELECT 1 FROM payments p WHERE p.order_id = o.id)
            AND {[o.created_at]=timerange}
        ORDER BY o.created_at DESC
        LIMIT 100
        """,
    ),
    _template(
        "Monthly Churn Rate",
        "Finance",
        ["billing.Plan Changes"],
        """
        WITH changes AS (
            SELECT
                DATE_TRUNC('month', "Changed At") AS month,
                SUM(CASE WHEN "New Plan" IS NULL THEN 1 ELSE 0 END) AS cancellations,
                COUNT(*) AS plan_changes
            FROM "billing"."Plan Changes"
            WHERE {["Changed At"]=timerange}
            GROUP BY 1
        )
        SELECT
            month,
            cancellations,
            ROUND(100.0 * cancellations / NULLIF(plan_changes, 0), 2) AS churn_pct
        FROM changes
        ORDER BY month
        """,
    ),
    _template(
        "Feature Adoption by Plan",
        "Product",
        ["analytics.product.feature_events", "analytics.core.Users"],
        """
        SELECT e.feature_name, u."Plan", COUNT(DISTINCT e.user_id) AS active_users
        FROM analytics.product.feature_events e
        JOIN "analytics"."core"."Users" u ON u."Id" = e.user_id
        WHERE {[e.occurred_at]=timerange} AND {[u."Plan"]=plans}
        GROUP BY e.feature_name, u."Plan"
        ORDER BY active_users DESC
        """,
    ),
    _template(
        "Active Subscriptions by Plan",
        "Product",
        ["Subscriptions"],
        """
        SELECT "Plan", COUNT(*) AS active_subscriptions
        FROM "Subscriptions"
        WHERE "Status" = 'active' AND {["Plan"]=plans}
        GROUP BY "Plan"
        """,
    ),
    _template(
        "Stock below Reorder Point",
        "Operations",
        ["warehouse.inventory.stock_levels", "products"],
        """
        SELECT p.sku, p.name, s.on_hand, s.reorder_point
        FROM warehouse.inventory.stock_levels s
        JOIN products p ON p.id = s.product_id
        WHERE s.on_hand < s.reorder_point
            AND s.snapshot_date = (
                SELECT MAX(snapshot_date) FROM warehouse.inventory.stock_levels
            )
            AND {[s.warehouse_code]=warehouses}
        ORDER BY s.on_hand
        """,
    ),
    _template(
        "Shipments Late by Carrier",
        "Operations",
        ["warehouse.logistics.shipments", "orders"],
        """
        SELECT sh.carrier, COUNT(*) AS late_shipments
        FROM warehouse.logistics.shipments sh
        JOIN orders o ON o.id = sh.order_id
        WHERE sh.delivered_at > sh.promised_at
            AND {[sh.shipped_at]=timerange}
            AND {[sh.carrier]=carriers}
        GROUP BY sh.carrier
        ORDER BY late_shipments DESC
        """,
    ),
)

_AREAS: tuple[str, ...] = tuple(dict.fromkeys(t.area for t in _QUERY_TEMPLATES))

_DASHBOARD_NAMES: dict[str, tuple[str, ...]] = {
    "Sales": ("Sales Overview", "Order Pipeline", "Customer Value", "E-commerce KPIs"),
    "Marketing": ("Marketing Funnel", "Campaign Performance", "Web Traffic"),
    "Support": ("Support Desk", "Customer Service Levels"),
    "Finance": ("Finance Weekly", "Revenue and Billing", "Board Metrics"),
    "Product": ("Product Usage", "Subscription Health"),
    "Operations": ("Inventory Monitor", "Fulfilment and Shipping"),
}

_REGIONS: tuple[str, ...] = ("EMEA", "North America", "APAC", "LATAM")

_TEAMS: tuple[str, ...] = (
    "leadership",
    "operations",
    "growth",
    "customer success",
    "data",
)

_DESCRIPTION_PATTERNS: tuple[str, ...] = (
    "Key {area} figures for the {team} team, refreshed every morning.",
    "Weekly review of {area} metrics. Ask the {team} team before changing filters.",
    "Tracks {area} trends against the previous period.",
    "{Area} numbers used in the monthly business review.",
)

# Share of dashboards with a null description and with an empty one, because real
# accounts have both and a connector must handle each.
_NULL_DESCRIPTION_SHARE = 0.2
_EMPTY_DESCRIPTION_SHARE = 0.1

_DATASOURCE_NAMES: tuple[str, ...] = (
    "Production Postgres",
    "Snowflake Warehouse",
    "Analytics Replica",
    "BigQuery Marketing",
    "Redshift Finance",
    "MySQL Shop",
)


# --------------------------------------------------------------------------------------
# Account generation
# --------------------------------------------------------------------------------------


def generate_account(
    dashboards: int,
    *,
    reports_per_dashboard: int = 6,
    datasources: int = 3,
    seed: int = 0,
) -> Account:
    """Generate an account with realistic names, descriptions and report SQL.

    The same arguments always give the same account, ids included. Each dashboard
    has between half and one and a half times ``reports_per_dashboard`` reports, but
    the account always has exactly ``dashboards * reports_per_dashboard`` reports.

    Raises:
        ValueError: if a count is negative or ``datasources`` is below 1.
    """
    _validate_counts(dashboards, reports_per_dashboard, datasources)
    rng = random.Random(seed)
    used_ids: set[str] = set()

    datasource_list = _generate_datasources(rng, used_ids, datasources)
    report_counts = _spread_report_counts(rng, dashboards, reports_per_dashboard)

    dashboard_list: list[Dashboard] = []
    report_list: list[Report] = []
    used_dashboard_names: set[str] = set()
    for report_count in report_counts:
        dashboard, reports = _generate_dashboard(
            rng, used_ids, used_dashboard_names, datasource_list, report_count
        )
        dashboard_list.append(dashboard)
        report_list.extend(reports)

    return Account(tuple(dashboard_list), tuple(report_list), tuple(datasource_list))


def _validate_counts(
    dashboards: int, reports_per_dashboard: int, datasources: int
) -> None:
    if dashboards < 0:
        raise ValueError(f"dashboards must be 0 or more, got {dashboards}")

    if reports_per_dashboard < 0:
        raise ValueError(
            f"reports_per_dashboard must be 0 or more, got {reports_per_dashboard}"
        )

    if datasources < 1:
        raise ValueError(
            f"datasources must be at least 1 because every report queries one, "
            f"got {datasources}"
        )


def _new_id(rng: random.Random, used_ids: set[str]) -> str:
    while True:
        groups = (
            "".join(rng.choices(_ID_ALPHABET, k=_ID_GROUP_LENGTH))
            for _ in range(_ID_GROUPS)
        )
        candidate = "-".join(groups)
        if candidate not in used_ids:
            used_ids.add(candidate)
            return candidate


def _new_timestamp(rng: random.Random) -> str:
    age = timedelta(seconds=rng.randrange(_TIMESTAMP_SPAN_SECONDS))
    return (_NEWEST_TIMESTAMP - age).isoformat()


def _generate_datasources(
    rng: random.Random, used_ids: set[str], count: int
) -> list[Datasource]:
    datasources = []
    for index in range(count):
        name = _DATASOURCE_NAMES[index % len(_DATASOURCE_NAMES)]
        repeat = index // len(_DATASOURCE_NAMES)
        if repeat:
            name = f"{name} {repeat + 1}"
        datasources.append(Datasource(_new_id(rng, used_ids), name))
    return datasources


def _spread_report_counts(rng: random.Random, dashboards: int, mean: int) -> list[int]:
    """Return a report count per dashboard that varies but sums to dashboards * mean.

    Dashboards are paired, and one of each pair gets ``mean + d`` reports while the
    other gets ``mean - d``. With ``|d| <= mean // 2`` every count stays between half
    and one and a half times the mean. An unpaired last dashboard gets the mean.
    """
    counts = []
    max_offset = mean // 2
    for _ in range(dashboards // 2):
        offset = rng.randint(-max_offset, max_offset)
        counts.extend((mean + offset, mean - offset))

    if dashboards % 2:
        counts.append(mean)

    rng.shuffle(counts)
    return counts


def _generate_dashboard(
    rng: random.Random,
    used_ids: set[str],
    used_names: set[str],
    datasources: Sequence[Datasource],
    report_count: int,
) -> tuple[Dashboard, list[Report]]:
    dashboard_id = _new_id(rng, used_ids)
    area = rng.choice(_AREAS)
    name = _unique_dashboard_name(rng, used_names, area)
    description = _new_description(rng, area)
    main_datasource = rng.choice(datasources)

    templates = _pick_templates(rng, area, report_count)
    reports = []
    used_report_names: set[str] = set()
    for template in templates:
        datasource = main_datasource
        if rng.random() >= _MAIN_DATASOURCE_SHARE:
            datasource = rng.choice(datasources)
        report = Report(
            id=_new_id(rng, used_ids),
            name=_unique_name(template.name, used_report_names),
            query=template.sql,
            updated_at=_new_timestamp(rng),
            dashboard_id=dashboard_id,
            datasource_id=datasource.id,
            referenced_tables=template.tables,
        )
        reports.append(report)

    dashboard = Dashboard(
        id=dashboard_id,
        name=name,
        description=description,
        updated_at=_new_timestamp(rng),
        report_ids=tuple(report.id for report in reports),
    )
    return dashboard, reports


def _unique_dashboard_name(rng: random.Random, used_names: set[str], area: str) -> str:
    base = rng.choice(_DASHBOARD_NAMES[area])
    if base in used_names:
        # A regional variant reads like a real copied dashboard. The numbered
        # fallback in _unique_name covers accounts larger than the name lists.
        base = f"{base} ({rng.choice(_REGIONS)})"
    return _unique_name(base, used_names)


def _unique_name(base: str, used_names: set[str]) -> str:
    name = base
    number = 2
    while name in used_names:
        name = f"{base} {number}"
        number += 1
    used_names.add(name)
    return name


def _new_description(rng: random.Random, area: str) -> str | None:
    draw = rng.random()
    if draw < _NULL_DESCRIPTION_SHARE:
        return None

    if draw < _NULL_DESCRIPTION_SHARE + _EMPTY_DESCRIPTION_SHARE:
        return ""

    pattern = rng.choice(_DESCRIPTION_PATTERNS)
    return pattern.format(area=area.lower(), Area=area, team=rng.choice(_TEAMS))


def _pick_templates(rng: random.Random, area: str, count: int) -> list[_QueryTemplate]:
    same_area = [t for t in _QUERY_TEMPLATES if t.area == area]
    picked = []
    for _ in range(count):
        pool = same_area if rng.random() < _SAME_AREA_REPORT_SHARE else _QUERY_TEMPLATES
        picked.append(rng.choice(pool))
    return picked


# --------------------------------------------------------------------------------------
# JSON:API documents
# --------------------------------------------------------------------------------------

# NOTE: the real API may return more attributes than these. Only the attributes
# listed here are documented in public material or read by Cluvio's example client
# scripts, so the server sends no others.


def _reference(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"id": resource_id, "type": resource_type}


def _dashboard_resource(dashboard: Dashboard) -> dict:
    return {
        "id": dashboard.id,
        "type": "dashboards",
        "attributes": {
            "name": dashboard.name,
            "description": dashboard.description,
            "updated_at": dashboard.updated_at,
        },
    }


def _report_resource(report: Report) -> dict:
    return {
        "id": report.id,
        "type": "reports",
        "attributes": {
            "name": report.name,
            "query": report.query,
            "updated_at": report.updated_at,
        },
        "relationships": {
            "datasource": {"data": _reference("datasources", report.datasource_id)},
            "dashboard": {"data": _reference("dashboards", report.dashboard_id)},
        },
    }


def _datasource_resource(datasource: Datasource) -> dict:
    return {
        "id": datasource.id,
        "type": "datasources",
        "attributes": {"name": datasource.name},
    }


def _dashboard_document(dashboard: Dashboard, reports_by_id: dict[str, Report]) -> dict:
    resource = _dashboard_resource(dashboard)
    resource["relationships"] = {
        "reports": {
            "data": [_reference("reports", rid) for rid in dashboard.report_ids]
        }
    }
    # Whether Cluvio also puts the datasources into "included" is not known. Only the
    # report objects are documented there.
    included = [_report_resource(reports_by_id[rid]) for rid in dashboard.report_ids]
    return {"data": resource, "included": included}


def _encode(document: object) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")


def _error_body(status: int, title: str, detail: str) -> bytes:
    # NOTE: Cluvio's error body format is not documented. This JSON:API "errors"
    # document is a stand-in, so clients should rely on the status code only.
    return _encode(
        {"errors": [{"status": str(status), "title": title, "detail": detail}]}
    )


def _build_routes(account: Account) -> dict[str, bytes]:
    """Serialise every GET response once, keyed by request path.

    Collection paths are stored with and without a trailing slash, because
    published example connectors request ``/dashboards/``.
    """
    # NOTE: pagination of the real list endpoints is not documented. This server
    # returns every item in one document and ignores query parameters.
    reports_by_id = {report.id: report for report in account.reports}
    dashboards_body = _encode(
        {"data": [_dashboard_resource(d) for d in account.dashboards]}
    )
    datasources_body = _encode(
        {"data": [_datasource_resource(d) for d in account.datasources]}
    )

    routes = {
        "/dashboards": dashboards_body,
        "/dashboards/": dashboards_body,
        "/datasources": datasources_body,
        "/datasources/": datasources_body,
    }
    for dashboard in account.dashboards:
        document = _dashboard_document(dashboard, reports_by_id)
        routes[f"/dashboards/{dashboard.id}"] = _encode(document)

    for datasource in account.datasources:
        document = {"data": _datasource_resource(datasource)}
        routes[f"/datasources/{datasource.id}"] = _encode(document)

    return routes


# --------------------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------------------

_SIGN_IN_PATH = "/users/sign_in"
_RESOURCE_SINGULAR = {"dashboards": "dashboard", "datasources": "datasource"}

_UNAUTHORIZED_BODY = _error_body(
    401,
    "Unauthorized",
    "Missing or invalid session token. Sign in with POST /users/sign_in and send "
    "the returned token in the 'token' request header.",
)
_INVALID_CREDENTIALS_BODY = _error_body(
    401, "Unauthorized", "Invalid email or password."
)


class _ServerState:
    """Responses, credentials, issued tokens and request counters of one server."""

    def __init__(self, account: Account, email: str, password: str) -> None:
        self.account = account
        self.routes = _build_routes(account)
        self.email = email
        self.password = password
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._request_count = 0
        self._connection_count = 0
        self._requests_by_path: Counter[str] = Counter()

    def count_connection(self) -> None:
        with self._lock:
            self._connection_count += 1

    def connection_count(self) -> int:
        with self._lock:
            return self._connection_count

    def count_request(self, method: str, path: str) -> None:
        with self._lock:
            self._request_count += 1
            self._requests_by_path[f"{method} {path}"] += 1

    def request_count(self) -> int:
        with self._lock:
            return self._request_count

    def requests_by_path(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests_by_path)

    def reset_counts(self) -> None:
        with self._lock:
            self._request_count = 0
            self._connection_count = 0
            self._requests_by_path.clear()

    def credentials_match(self, email: str, password: str) -> bool:
        email_matches = secrets.compare_digest(email.encode(), self.email.encode())
        password_matches = secrets.compare_digest(
            password.encode(), self.password.encode()
        )
        return email_matches and password_matches

    def issue_token(self) -> str:
        token = secrets.token_hex(20)
        with self._lock:
            self._tokens.add(token)
        return token

    def token_is_valid(self, token: str | None) -> bool:
        if token is None:
            return False
        with self._lock:
            return token in self._tokens


class _CluvioHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that tracks open connections so stop() can close them."""

    daemon_threads = True

    def __init__(self, address, handler_class, state: _ServerState, family) -> None:
        self.address_family = family
        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler_class)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse DNS lookup that
        # can be slow and can query a resolver on another host. The loopback IP
        # literal serves as the server name instead.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def process_request(self, request, client_address) -> None:
        self.state.count_connection()
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address) -> None:
        # The base class prints every traceback to stderr. A connection reset by the
        # client, or by close_connections(), is routine and needs no traceback.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            logger.debug("Connection from %s closed: %s", client_address, error)
            return

        logger.exception("Failed to handle a request from %s", client_address)

    def close_connections(self) -> None:
        """Shut down every open client socket, so idle keep-alive handlers exit."""
        with self._connections_lock:
            connections = list(self._connections)

        for connection in connections:
            # OSError means the handler thread closed this socket after the copy.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _CluvioRequestHandler(BaseHTTPRequestHandler):
    server: _CluvioHTTPServer

    # HTTP/1.1 keeps connections alive between requests, which needs a correct
    # Content-Length on every response. Without TCP_NODELAY, Nagle's algorithm and
    # the client's delayed ACK (at least 40 ms on Linux) can stall each keep-alive
    # response whose headers and body leave in separate writes.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "CluvioTestServer"
    timeout = _IDLE_CONNECTION_TIMEOUT_SECONDS

    # A buffered writer sends the headers and body in one send() call when together
    # they fit io.DEFAULT_BUFFER_SIZE (8 KiB). The base handler flushes wfile after
    # each request.
    wbufsize = -1

    def do_GET(self) -> None:
        state = self.server.state
        path = self.path.partition("?")[0]
        state.count_request("GET", path)
        if self._read_body() is None:
            return

        if not state.token_is_valid(self.headers.get("token")):
            logger.info("Rejected GET %s: missing or invalid token header", path)
            self._send_json(401, _UNAUTHORIZED_BODY)
            return

        body = state.routes.get(path)
        if body is None:
            logger.info("GET %s: not found", path)
            self._send_json(404, _not_found_body(path))
            return

        self._send_json(200, body)

    def do_POST(self) -> None:
        state = self.server.state
        path = self.path.partition("?")[0]
        state.count_request("POST", path)
        body = self._read_body()
        if body is None:
            return

        if path != _SIGN_IN_PATH:
            logger.info("POST %s: not found", path)
            self._send_json(404, _not_found_body(path))
            return

        self._sign_in(state, body)

    def _sign_in(self, state: _ServerState, body: bytes) -> None:
        credentials = _parse_credentials(body)
        if credentials is None:
            # The real status for a malformed sign-in body is not documented. Only
            # "non-2xx on failure" is known.
            detail = (
                'The request body must be JSON like {"user": {"email": "...", '
                '"password": "..."}}.'
            )
            logger.info("Rejected sign-in: malformed request body")
            self._send_json(400, _error_body(400, "Bad Request", detail))
            return

        email, password = credentials
        if not state.credentials_match(email, password):
            logger.info("Rejected sign-in for %s: invalid email or password", email)
            self._send_json(401, _INVALID_CREDENTIALS_BODY)
            return

        # The real response may carry more fields. Only "token" is documented.
        self._send_json(200, _encode({"token": state.issue_token()}))

    def _read_body(self) -> bytes | None:
        """Read the request body, or send an error response and return None."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            logger.warning(
                "Rejected %s %s: chunked request body", self.command, self.path
            )
            detail = "Chunked request bodies are not supported. Send Content-Length."
            self._send_json(411, _error_body(411, "Length Required", detail))
            return None

        raw_length = self.headers.get("Content-Length")
        if raw_length is None:
            return b""

        try:
            length = int(raw_length)
        except ValueError:
            length = -1

        if length < 0:
            self.close_connection = True
            logger.warning(
                "Rejected %s %s: invalid Content-Length %r",
                self.command,
                self.path,
                raw_length,
            )
            detail = f"Invalid Content-Length header {raw_length!r}."
            self._send_json(400, _error_body(400, "Bad Request", detail))
            return None

        if length > _MAX_BODY_BYTES:
            # The unread body would be parsed as the next request, so close.
            self.close_connection = True
            logger.warning(
                "Rejected %s %s: body of %d bytes exceeds %d bytes",
                self.command,
                self.path,
                length,
                _MAX_BODY_BYTES,
            )
            detail = f"Request body of {length} bytes exceeds {_MAX_BODY_BYTES} bytes."
            self._send_json(413, _error_body(413, "Content Too Large", detail))
            return None

        return self.rfile.read(length)

    def _send_json(self, status: int, body: bytes) -> None:
        # The real API may send "application/vnd.api+json" for JSON:API documents,
        # so a client should not depend on this Content-Type value.
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            # Tells the client not to reuse the connection, for example after a
            # rejected body that was left unread.
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def version_string(self) -> str:
        # The base class appends the Python version, which a test server need not
        # reveal.
        return self.server_version

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
        # The base class writes every request line to stderr, which costs time in
        # benchmarks and floods test output.
        logger.debug("%s - " + format, self.address_string(), *args)

    def log_error(self, format: str, *args) -> None:  # noqa: A002 - base signature
        logger.warning("%s - " + format, self.address_string(), *args)


def _parse_credentials(body: bytes) -> tuple[str, str] | None:
    try:
        document = json.loads(body)
    except ValueError:
        # json.JSONDecodeError and UnicodeDecodeError both derive from ValueError.
        return None

    user = document.get("user") if isinstance(document, dict) else None
    if not isinstance(user, dict):
        return None

    email = user.get("email")
    password = user.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        return None

    return email, password


def _not_found_body(path: str) -> bytes:
    segments = path.strip("/").split("/")
    if len(segments) == 2 and segments[0] in _RESOURCE_SINGULAR:
        singular = _RESOURCE_SINGULAR[segments[0]]
        detail = f"No {singular} with id {segments[1]!r} exists."
    else:
        detail = f"No resource at path {path!r}."
    return _error_body(404, "Not Found", detail)


def _loopback_address(host: str) -> tuple[str, socket.AddressFamily]:
    """Return the IP literal and address family for host, or raise ValueError.

    Only loopback addresses are accepted, because the server has a fixed password
    and serves made-up data that must not be reachable from other machines.
    """
    if host == "localhost":
        return "127.0.0.1", socket.AF_INET

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"Invalid host {host!r}: use a loopback IP address such as 127.0.0.1 "
            f"or ::1, or localhost."
        ) from None

    if not address.is_loopback:
        raise ValueError(
            f"Host {host!r} is not a loopback address. The test server binds only "
            f"to loopback addresses such as 127.0.0.1 or ::1."
        )

    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    return str(address), family


class CluvioTestServer:
    """A local HTTP server that responds like the Cluvio API for one generated account.

    A GET costs a token check and a dictionary lookup, because all GET bodies are
    serialised when the server is constructed. Use it as a context manager, or call
    start() and stop().
    """

    def __init__(
        self,
        account: Account,
        *,
        email: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """Prepare the server without binding a socket.

        ``port`` 0 lets the operating system pick a free port, which ``url`` and
        ``port`` then report once the server has started.

        Raises:
            ValueError: if ``host`` is not a loopback address or ``port`` is not
                between 0 and 65535.
        """
        self._address, self._family = _loopback_address(host)
        if not 0 <= port <= 65535:
            raise ValueError(
                f"Invalid port {port}: use 0 to 65535 (0 picks a free port)"
            )

        self._requested_port = port
        self._state = _ServerState(account, email, password)
        self._server: _CluvioHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def account(self) -> Account:
        """The account whose data the server returns."""
        return self._state.account

    @property
    def port(self) -> int:
        """TCP port the running server listens on."""
        return self._running_server().server_address[1]

    @property
    def url(self) -> str:
        """Base URL of the running server, such as ``http://127.0.0.1:8765``."""
        host = self._address
        if self._family == socket.AF_INET6:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def request_count(self) -> int:
        """Number of requests handled since start or the last reset_counts()."""
        return self._state.request_count()

    @property
    def connection_count(self) -> int:
        """Number of TCP connections accepted since start or the last reset_counts()."""
        return self._state.connection_count()

    @property
    def requests_by_path(self) -> dict[str, int]:
        """Request counts keyed by ``"<METHOD> <path>"``, without query strings."""
        return self._state.requests_by_path()

    def reset_counts(self) -> None:
        """Set request_count and connection_count to 0 and clear requests_by_path."""
        self._state.reset_counts()

    def start(self) -> CluvioTestServer:
        """Bind the socket, serve requests in a daemon thread and return self.

        The socket accepts connections when this method returns.

        Raises:
            RuntimeError: if the server is already running.
            OSError: if the address cannot be bound, for example a port in use.
        """
        if self._server is not None:
            raise RuntimeError(
                f"The Cluvio test server at {self.url} is already running."
            )

        server = _CluvioHTTPServer(
            (self._address, self._requested_port),
            _CluvioRequestHandler,
            self._state,
            self._family,
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name=f"cluvio-test-server-{server.server_address[1]}",
            daemon=True,
        )
        thread.start()
        self._server = server
        self._thread = thread
        logger.info("Cluvio test server listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving, close open client connections and close the socket.

        Calling stop() on a server that is not running does nothing.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return

        url = self.url
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(_STOP_JOIN_TIMEOUT_SECONDS)
        self._server = None
        self._thread = None
        logger.info("Cluvio test server at %s stopped", url)

    def __enter__(self) -> CluvioTestServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _running_server(self) -> _CluvioHTTPServer:
        if self._server is None:
            raise RuntimeError(
                "The Cluvio test server is not running. Call start() or use it as a "
                "context manager first."
            )
        return self._server


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, got {value}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m secoda_connector_cluvio.testserver",
        description=(
            "Serve a generated Cluvio account over HTTP on a loopback address, for "
            "tests, benchmarks and demos. It runs until SIGTERM or SIGINT (Ctrl-C)."
        ),
    )
    _add_listen_options(parser)
    _add_account_options(parser)
    _add_sign_in_options(parser)

    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        default="INFO",
        help="Level of log messages written to stderr. DEBUG logs every request "
        "(default: %(default)s).",
    )
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("listening")
    group.add_argument(
        "--host",
        default="127.0.0.1",
        help="Loopback address to listen on: an IPv4 or IPv6 loopback address or "
        "localhost (default: %(default)s). Other addresses are rejected.",
    )

    group.add_argument(
        "--port",
        type=_port_number,
        default=8765,
        help="TCP port to listen on. 0 picks a free port (default: %(default)s).",
    )

    group.add_argument(
        "--port-file",
        type=Path,
        metavar="PATH",
        help="Write the listening port to this file once the server accepts "
        "connections, and remove the file on exit. The file is written to a "
        "temporary name and renamed, so a reader never sees it half written.",
    )


def _add_account_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("generated account")
    group.add_argument(
        "--dashboards",
        type=_non_negative_int,
        default=25,
        help="Number of dashboards to generate (default: %(default)s).",
    )

    group.add_argument(
        "--reports-per-dashboard",
        type=_non_negative_int,
        default=6,
        help="Mean number of reports per dashboard. Each dashboard has between "
        "half and one and a half times this many, and the account has exactly "
        "dashboards times this many (default: %(default)s).",
    )

    group.add_argument(
        "--datasources",
        type=_positive_int,
        default=3,
        help="Number of datasources to generate (default: %(default)s).",
    )

    group.add_argument(
        "--seed",
        type=int,
        default=0,
        help="Random seed. The same seed gives the same ids and content "
        "(default: %(default)s).",
    )


def _add_sign_in_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sign-in")
    group.add_argument(
        "--email",
        default=DEFAULT_EMAIL,
        help="Email address accepted by POST /users/sign_in (default: %(default)s).",
    )

    group.add_argument(
        "--password",
        default=DEFAULT_PASSWORD,
        help="Password accepted by POST /users/sign_in (default: %(default)s).",
    )


def _write_port_file(path: Path, port: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(f"{port}\n", encoding="ascii")
    os.replace(temporary, path)


def _remove_port_file(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as error:
        logger.warning("Failed to remove port file %s: %s", path, error)


def _wait_for_stop_signal() -> int:
    """Block until SIGTERM or SIGINT arrives and return the signal number."""
    received: list[int] = []
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        # Logging from a signal handler can re-enter a stream write that the
        # interrupted code was in the middle of, so only record the signal here.
        received.append(signum)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    stop_requested.wait()
    return received[0]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the test server from the command line and return the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    account = generate_account(
        args.dashboards,
        reports_per_dashboard=args.reports_per_dashboard,
        datasources=args.datasources,
        seed=args.seed,
    )
    try:
        server = CluvioTestServer(
            account,
            email=args.email,
            password=args.password,
            host=args.host,
            port=args.port,
        )
    except ValueError as error:
        parser.error(str(error))

    try:
        server.start()
    except OSError as error:
        logger.error("Failed to listen on %s port %d: %s", args.host, args.port, error)
        return 1

    try:
        if args.port_file is not None:
            _write_port_file(args.port_file, server.port)
    except OSError as error:
        logger.error("Failed to write port file %s: %s", args.port_file, error)
        server.stop()
        return 1

    try:
        print(
            f"Cluvio test server at {server.url} with {account.dashboard_count} "
            f"dashboards, {account.report_count} reports and "
            f"{account.datasource_count} datasources (sign in as {args.email})",
            flush=True,
        )
        signum = _wait_for_stop_signal()
        logger.info(
            "Received %s after %d requests, stopping",
            signal.Signals(signum).name,
            server.request_count,
        )
    finally:
        server.stop()
        if args.port_file is not None:
            _remove_port_file(args.port_file)

    return 0


if __name__ == "__main__":
    sys.exit(main())
