"""Walking paginated JSON listings through a connector's ``http_get``.

Three styles are covered: JSON:API ``links.next`` (:func:`paginate_links`),
page numbers (:func:`paginate_pages`) and cursors (:func:`paginate_cursor`).
Each yields one decoded JSON document per page. The requests go through
``integration.http_get``, so they use whatever network strategy the connector
runs with. Every helper stops with :class:`~hub.errors.PaginationError` when
the server repeats a page, or after ``max_pages`` pages::

    for document in paginate_links(self, f"{base_url}/dashboards", **auth):
        for dashboard in document["data"]:
            ...
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from hub.errors import FatalHTTPError, PaginationError, RetriableHTTPError
from hub.sdk.http import mask_url
from hub.sdk.retry import RETRY_STATUSES

# Pages fetched before a listing counts as runaway. A connector whose source
# legitimately has more passes ``max_pages=``.
DEFAULT_MAX_PAGES = 1000


def paginate_links(
    integration,
    url: str,
    *,
    params: dict | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    **request_options: Any,
) -> Iterator[Any]:
    """Yield each page of a listing that names the next page in ``links.next``.

    ``links.next`` may be a URL string or a JSON:API link object with an
    ``href``. A relative link is resolved against the page that contains it, and
    ``params`` apply to the first request only, because a next link carries
    its own query. ``request_options`` go to ``http_get`` (headers, auth...).
    """
    seen: set[str] = set()
    next_url: str | None = url
    pages = 0
    while next_url is not None:
        _check_cap(pages, max_pages, next_url)
        seen.add(next_url)
        response = integration.http_get(next_url, params=params, **request_options)
        seen.add(str(response.request.url))
        document = _decode(response)
        yield document

        pages += 1
        params = None
        next_url = _next_link(document, response.request.url)
        if next_url in seen:
            raise PaginationError(
                f"GET {_masked(next_url)} was already fetched: the server "
                "repeated a next link, so the listing would never end"
            )


def paginate_pages(
    integration,
    url: str,
    *,
    items: Callable[[Any], list] | None = None,
    page_param: str = "page",
    first_page: int = 1,
    params: dict | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    **request_options: Any,
) -> Iterator[Any]:
    """Yield each page of a listing numbered by ``page_param``.

    The walk stops at the first page whose ``items(document)`` is empty. The
    default reads the JSON:API ``data`` list. A page whose body equals an
    earlier page's means the server ignores ``page_param``, which raises
    :class:`~hub.errors.PaginationError`.
    """
    items = items or _jsonapi_data
    seen: set[bytes] = set()
    for index in itertools.count():
        response = integration.http_get(
            url,
            params={**(params or {}), page_param: first_page + index},
            **request_options,
        )
        document = _decode(response)
        if not items(document):
            return

        # The page past the cap is fetched, so a listing of exactly
        # max_pages pages ends normally on its empty page.
        _check_cap(index, max_pages, url)
        digest = hashlib.sha256(response.content).digest()
        if digest in seen:
            raise PaginationError(
                f"GET {_masked(response.request.url)} returned the same body as "
                f"an earlier page: the server ignores {page_param!r}, so the "
                "listing would never end"
            )
        seen.add(digest)
        yield document


def paginate_cursor(
    integration,
    url: str,
    *,
    next_cursor: Callable[[Any], str | None],
    cursor_param: str = "cursor",
    params: dict | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    **request_options: Any,
) -> Iterator[Any]:
    """Yield each page of a listing that hands out an opaque cursor.

    ``next_cursor(document)`` returns the cursor of the next page, or None
    (or an empty string) on the last page. The cursor goes back to the server
    in ``cursor_param``.
    """
    seen: set[str] = set()
    cursor: str | None = None
    for index in range(max_pages + 1):
        _check_cap(index, max_pages, url)
        query = dict(params or {})
        if cursor is not None:
            query[cursor_param] = cursor
        response = integration.http_get(url, params=query, **request_options)
        document = _decode(response)
        yield document

        cursor = next_cursor(document) or None
        if cursor is None:
            return
        if cursor in seen:
            raise PaginationError(
                f"GET {_masked(response.request.url)} repeated an earlier "
                f"{cursor_param!r}, so the listing would never end"
            )
        seen.add(cursor)


def _check_cap(pages: int, max_pages: int, url: str | httpx.URL) -> None:
    if pages >= max_pages:
        raise PaginationError(
            f"listing at {_masked(url)} passed the cap of {max_pages} pages; "
            "pass a larger max_pages= if the source really has more"
        )


def _decode(response: httpx.Response) -> Any:
    target = f"{response.request.method} {_masked(response.request.url)}"
    if response.status_code in RETRY_STATUSES:
        raise RetriableHTTPError(
            f"{target} returned HTTP {response.status_code} after every retry"
        )
    if not response.is_success:
        raise FatalHTTPError(f"{target} returned HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        raise FatalHTTPError(f"{target} returned a body that is not JSON") from None


def _next_link(document: Any, current: httpx.URL) -> str | None:
    links = document.get("links") if isinstance(document, dict) else None
    link = links.get("next") if isinstance(links, dict) else None
    if isinstance(link, dict):
        link = link.get("href")
    if not isinstance(link, str) or not link:
        return None
    return str(current.join(link))


def _jsonapi_data(document: Any) -> list:
    data = document.get("data") if isinstance(document, dict) else None
    return data if isinstance(data, list) else []


def _masked(url: str | httpx.URL) -> str:
    # Error text reaches logs and the catalog, so token-like query values are masked.
    return mask_url(httpx.URL(url))
