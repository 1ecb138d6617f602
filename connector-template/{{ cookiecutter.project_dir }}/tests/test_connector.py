"""The connector against its local test server."""

import pytest
from hub.testing import ConnectorSuite, run_connector

from {{ cookiecutter.package }} import {{ cookiecutter.class_name }}
from {{ cookiecutter.package }}.testserver import TOKEN, LocalApiServer


@pytest.fixture
def api_server():
    with LocalApiServer() as server:
        yield server


class TestStandardSuite(ConnectorSuite):
    connector = {{ cookiecutter.class_name }}
    server_fixture = "api_server"
    credentials = {"api_token": TOKEN, "base_url": "{server_url}"}


def test_declares_every_chart(api_server):
    run = run_connector(
        {{ cookiecutter.class_name }},
        {"api_token": TOKEN, "base_url": api_server.url},
    )

    charts = [item for item in run.resources if item.entity_type == "chart"]
    assert len(charts) == 3


def test_wrong_token_is_rejected(api_server):
    from hub.sdk import AuthenticationError

    with pytest.raises(AuthenticationError, match="check api_token"):
        run_connector(
            {{ cookiecutter.class_name }},
            {"api_token": "wrong", "base_url": api_server.url},
        )
