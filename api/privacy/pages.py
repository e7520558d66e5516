"""The access-log page for the group admin, and the reveal fragment the customer and complaint pages swap in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Request, get
from litestar.response import Template

from api.auth import requires
from api.lists import ListView
from crm.privacy.policy import ACCESS_LOG_READERS
from crm.privacy.service import ACCESS_LIST, access_log
from tenants.errors import Forbidden, InvalidInput, NotFound, RateLimited
from tenants.scope import Scope

# What a log row records, and of which record: code → (中文, English), for `label(...)`.
LABELS = {
    "action": {"reveal": ("查看完整信息", "Reveal"), "bulk_read": ("批量读取", "Bulk read")},
    "subject": {"customer": ("客户", "Customer"), "complaint": ("投诉", "Complaint"), "callback": ("回访", "Callback")},
}


@get("/privacy/access-log", guards=[requires(*ACCESS_LOG_READERS)], include_in_schema=False)
async def access_log_page(actor: Scope, sort: str = "", page: str = "", page_size: str = "") -> Template:
    want = ACCESS_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await access_log(actor=actor, want=want)
    return Template("privacy/access_log.html", context={
        "entries": found.items, "view": ListView("/privacy/access-log", ACCESS_LIST, want, found), "labels": LABELS})


# A refusal of a reveal by meaning, as the JSON API answers it; the fragment says why in place of the value.
REFUSAL_STATUS = {InvalidInput: 400, Forbidden: 403, NotFound: 404, RateLimited: 429}


async def revealed_fragment(request: Request, reveal: Callable[[str, str], Awaitable[str]]) -> Template:
    """Run `reveal(field, reason)` with the posted form: the clear value, or the refusal where the button was.

    A refusal answers by meaning, like the JSON API: 400 (no reason, unknown field), 403 (the role may not reveal),
    404 (a record of another store or group) and 429 (the hourly allowance is used up, with Retry-After). The form
    carries `data-swap-refused`, so that htmx swaps those answers in (by default it swaps no 4xx; see app.js).
    """
    form = await request.form()
    field, reason = str(form.get("field", ""))[:40], str(form.get("reason", ""))
    try:
        value = await reveal(field, reason)
    except tuple(REFUSAL_STATUS) as refused:
        headers = {"Retry-After": str(refused.retry_after)} if isinstance(refused, RateLimited) else {}
        return Template("privacy/_revealed.html", headers=headers, status_code=_status(refused),
                        context={"field": field, "value": "", "refusal": _message(refused)})
    return Template("privacy/_revealed.html", context={"field": field, "value": value, "refusal": None})


def _status(refused: Exception) -> int:
    return next(status for kind, status in REFUSAL_STATUS.items() if isinstance(refused, kind))


def _message(refused: InvalidInput | Forbidden | NotFound | RateLimited) -> tuple[str, str]:
    if isinstance(refused, InvalidInput):
        return refused.problems[0].zh, refused.problems[0].en
    if isinstance(refused, NotFound):
        return "未找到", "Not found"
    return refused.zh, refused.en


ROUTES = [access_log_page]
