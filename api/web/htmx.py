"""htmx requests, read through litestar-htmx (`request.htmx`, the app's request class via `HTMXPlugin`):
one page URL answers the whole page, or to htmx only the part it swaps."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.response import Template
from litestar_htmx import HTMXRequest


def wants_part(request: HTMXRequest) -> bool:
    """An htmx swap asks for a part; a history restore (back button after a cache miss) needs the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def page_or_part(request: HTMXRequest, page: str, part: str, context: Mapping[str, Any]) -> Template:
    # the same URL answers a page or a part: caches must keep them apart
    return Template(part if wants_part(request) else page, context=dict(context), headers={"Vary": "HX-Request"})
