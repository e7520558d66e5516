"""What every area's pages do with a request the same way: ids from paths and forms, the store
choices of a filter or form, and whether htmx asks for a fragment of the page or the whole page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template
from litestar_htmx import HTMXDetails

from api.params import MAX_ID
from tenants.errors import InvalidInput, NotFound
from tenants.scope import Scope
from tenants.tables import Store


def existing_id(value: int, kind: str, *, max_id: int = MAX_ID) -> int:
    """An id from a page's path: one the database cannot hold is an object that does not exist (404)."""
    if not 0 < value <= max_id:
        raise NotFound(kind)
    return value


def optional_int(raw: str, field: str = "") -> int | None:
    """An id typed or chosen in a form: "" is none; a bad value is a field problem when `field` is named,
    else none (a filter in the URL falls back to "all")."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if raw.isdigit() and 0 < int(raw) <= MAX_ID:
        return int(raw)
    if field:
        raise InvalidInput.one(field, "取值无效", "Invalid value")
    return None


def required_int(form: Any, field: str) -> int:
    value = optional_int(form.get(field, ""), field)
    if value is None:
        raise InvalidInput.one(field, "请选择", "Please choose")
    return value


async def store_choices(actor: Scope) -> list[dict[str, Any]]:
    """The open stores the caller may choose (id and name), by name: a closed store takes no new work."""
    return await Store.select(Store.id, Store.name).where(
        Store.id.is_in(sorted(actor.store_ids) or [-1]), Store.group == actor.group_id, Store.active.eq(True)
    ).order_by(Store.name)


def wants_fragment(request: Request) -> bool:
    """An htmx request swaps part of the page; restoring history after a reload, and a boosted link or form (a
    list's sort, page or filter: it selects its part from the whole page), need the whole page.
    (The headers are read by litestar-htmx.)"""
    htmx = HTMXDetails(request)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def page_or_fragment(request: Request, *, page: str, fragment: str, context: dict, **kwargs: Any) -> Template:
    """The same URL answers a page or, to htmx, its fragment: caches must keep them apart."""
    template = fragment if wants_fragment(request) else page
    return Template(template, context=context, headers={"Vary": "HX-Request"}, **kwargs)
