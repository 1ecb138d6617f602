"""The Cluvio connector under the hub's standard connector test suite."""

import pytest

from hub.testing import ConnectorSuite
from secoda_connector_cluvio import CluvioIntegration
from secoda_connector_cluvio.testserver import (
    DEFAULT_EMAIL,
    DEFAULT_PASSWORD,
    CluvioTestServer,
    generate_account,
)


@pytest.fixture
def cluvio_suite_server():
    account = generate_account(6, reports_per_dashboard=3, seed=11)
    with CluvioTestServer(
        account, email=DEFAULT_EMAIL, password=DEFAULT_PASSWORD
    ) as server:
        yield server


class TestCluvioStandard(ConnectorSuite):
    connector = CluvioIntegration
    server_fixture = "cluvio_suite_server"
    credentials = {
        "email": DEFAULT_EMAIL,
        "password": DEFAULT_PASSWORD,
        "base_url": "{server_url}",
    }
