"""Paging of the API's list endpoints: ``?page=2&page_size=100``.

The answer is DRF's page shape, ``{"count", "next", "previous", "results"}``,
with ``next``/``previous`` as absolute links (``null`` at either end). Lists
are small today (consent purposes), so a page number is enough; every list
endpoint should use this class so host apps page them all alike.
"""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_page_message = "There is no page “{page_number}”: pages are numbered from 1 ({message})."
