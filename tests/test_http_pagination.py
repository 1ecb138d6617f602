"""Pagination helpers against a real listing server on 127.0.0.1."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.errors import FatalHTTPError, PaginationError
from hub.sdk.http import PooledNetworkStrategy
from hub.sdk.integration import SecodaIntegration
from hub.sdk.pagination import paginate_cursor, paginate_links, paginate_pages
from hub.sdk.strategies import DefaultNetworkCallStrategy

LAST_PAGE = 3


def linked_page(query):
    page = int(query.get("page", ["1"])[0])
    next_link = f"/linked?page={page + 1}" if page < LAST_PAGE else None
    return {"data": [{"id": page}], "links": {"next": next_link}}


def numbered_page(query):
    page = int(query["number"][0])
    return {"data": [{"id": page}] if page <= LAST_PAGE else []}


def cursor_page(query):
    cursor = query.get("after", ["c0"])[0]
    position = int(cursor[1:])
    following = f"c{position + 1}" if position < LAST_PAGE - 1 else None
    return {"items": [position], "next": following}


ROUTES = {
    "/linked": linked_page,
    # A next link that never changes, so a naive loop would never stop.
    "/loop": lambda query: {"data": [1], "links": {"next": "/loop?page=2"}},
    "/object-links": lambda query: {
        "data": [1],
        "links": {"next": {"href": "/linked?page=3"} if not query else None},
    },
    "/numbered": numbered_page,
    "/ignores-page": lambda query: {"data": [{"id": 1}]},
    "/cursor": cursor_page,
    "/stuck-cursor": lambda query: {"items": [1], "next": "same"},
}


class ListingHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5

    def do_GET(self):
        parts = urlsplit(self.path)
        self.server.paths.append(self.path)
        route = ROUTES.get(parts.path)
        status, document = (200, route(parse_qs(parts.query))) if route else (404, {})
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - base class signature
        pass


class Connector(SecodaIntegration):
    def extract(self):
        pass


@pytest.fixture(scope="module")
def server():
    running = ThreadingHTTPServer(("127.0.0.1", 0), ListingHandler)
    running.paths = []
    thread = threading.Thread(
        target=running.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    yield running
    running.shutdown()
    running.server_close()
    thread.join()


@pytest.fixture
def base_url(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def connector(base_url):
    network = PooledNetworkStrategy(allowed_hosts=[base_url.split("//")[1]])
    yield Connector(credentials={}, network_call_strategy=network)
    network.finalize()


def test_links_follow_next(connector, base_url):
    pages = list(paginate_links(connector, f"{base_url}/linked"))

    assert [page["data"][0]["id"] for page in pages] == [1, 2, 3]


def test_links_accept_link_objects(connector, base_url):
    pages = list(paginate_links(connector, f"{base_url}/object-links"))

    assert len(pages) == 2
    assert pages[1]["data"] == [{"id": 3}]


def test_repeated_next_link_fails(connector, base_url):
    with pytest.raises(PaginationError) as raised:
        list(paginate_links(connector, f"{base_url}/loop"))

    assert f"{base_url}/loop?page=2" in str(raised.value)


def test_links_page_cap(connector, base_url):
    with pytest.raises(PaginationError, match="cap of 2 pages"):
        list(paginate_links(connector, f"{base_url}/linked", max_pages=2))


def test_links_exact_cap_succeeds(connector, base_url):
    pages = list(paginate_links(connector, f"{base_url}/linked", max_pages=3))

    assert len(pages) == LAST_PAGE


def test_links_pass_request_options(connector, base_url, server):
    list(
        paginate_links(
            connector,
            f"{base_url}/linked",
            params={"page": 2, "filter": "x"},
            headers={"Accept": "application/json"},
        )
    )

    assert server.paths[-2:] == ["/linked?page=2&filter=x", "/linked?page=3"]


def test_numbered_pages_stop_when_empty(connector, base_url):
    pages = list(paginate_pages(connector, f"{base_url}/numbered", page_param="number"))

    assert [page["data"][0]["id"] for page in pages] == [1, 2, 3]


def test_numbered_exact_cap_succeeds(connector, base_url):
    pages = list(
        paginate_pages(
            connector, f"{base_url}/numbered", page_param="number", max_pages=3
        )
    )

    assert len(pages) == LAST_PAGE


def test_numbered_page_cap(connector, base_url):
    with pytest.raises(PaginationError, match="cap of 2 pages"):
        list(
            paginate_pages(
                connector, f"{base_url}/numbered", page_param="number", max_pages=2
            )
        )


def test_ignored_page_parameter_fails(connector, base_url):
    with pytest.raises(PaginationError, match="ignores 'page'"):
        list(paginate_pages(connector, f"{base_url}/ignores-page"))


def test_cursor_pages_follow_cursor(connector, base_url):
    pages = list(
        paginate_cursor(
            connector,
            f"{base_url}/cursor",
            next_cursor=lambda document: document["next"],
            cursor_param="after",
        )
    )

    assert [page["items"] for page in pages] == [[0], [1], [2]]


def test_repeated_cursor_fails(connector, base_url):
    with pytest.raises(PaginationError, match="repeated an earlier 'cursor'"):
        list(
            paginate_cursor(
                connector,
                f"{base_url}/stuck-cursor",
                next_cursor=lambda document: document["next"],
            )
        )


def test_error_status_raises_fatal(connector, base_url):
    with pytest.raises(FatalHTTPError, match="HTTP 404"):
        list(paginate_links(connector, f"{base_url}/missing"))


def test_works_with_default_strategy(base_url):
    connector = Connector(
        credentials={}, network_call_strategy=DefaultNetworkCallStrategy()
    )

    pages = list(paginate_links(connector, f"{base_url}/linked"))

    assert len(pages) == LAST_PAGE
