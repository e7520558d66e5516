"""Personal-data JSON: what a reveal asks and answers (used by the customers and complaints routes), the access log."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get
from litestar.params import Parameter

from api.auth import requires
from api.lists import PageParam, PageSizeParam, SortParam
from api.params import MAX_ID, text
from crm.privacy.policy import ACCESS_LOG_READERS
from crm.lists import Page
from crm.privacy.service import ACCESS_LIST, REASON_MAX, AccessEntry, AccessLogFilter, access_log
from tenants.scope import Scope


class RevealRequest(msgspec.Struct, kw_only=True):
    """Which personal field to show in clear, and why (written to the access log)."""

    field: text(40, min_length=1)
    reason: text(REASON_MAX)


class Revealed(msgspec.Struct, kw_only=True):
    field: str
    value: str


@get("/api/v1/personal-data-access", guards=[requires(*ACCESS_LOG_READERS)], tags=["privacy"])
async def list_access(
    actor: Scope,
    user_id: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
    sort: SortParam = "",
    page: PageParam = 1,
    page_size: PageSizeParam = None,
) -> Page[AccessEntry]:
    """The group's personal-data access log (个人信息访问记录), newest first: reveals and bulk reads, one page with
    the total. `sort`: `at` (default `-at`), `user`, `action`, `subject`, `field`, `reason`; `-key` descending."""
    want = ACCESS_LIST.parse(sort=sort, page=page, page_size=page_size)
    return await access_log(actor=actor, filters=AccessLogFilter(user_id=user_id), want=want)


ROUTES = [list_access]
