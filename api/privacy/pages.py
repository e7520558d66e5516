"""The access-log page for the group admin, and the reveal fragment the customer and complaint pages swap in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Request, get
from litestar.response import Template

from api.auth import requires
from api.i18n import extend
from api.lists import ListView
from crm.privacy.policy import ACCESS_LOG_READERS
from crm.privacy.service import ACCESS_LIST, access_log
from tenants.errors import Forbidden, InvalidInput, RateLimited
from tenants.scope import Scope

# What a log row records, and of which record: code → (中文, English), for `label(...)`.
LABELS = {
    "action": {"reveal": ("查看完整信息", "Reveal"), "bulk_read": ("批量读取", "Bulk read")},
    "subject": {"customer": ("客户", "Customer"), "complaint": ("投诉", "Complaint"), "callback": ("回访", "Callback")},
}

extend({
    "privacy.show": ("显示", "Show"),
    "privacy.reason": ("查看原因", "Reason"),
    "privacy.log.title": ("个人信息访问记录", "Personal-data access log"),
    "privacy.log.intro": ("查看完整手机号、证件号及批量读取客户个人信息的记录,只增不改。",
                          "Every reveal of a full mobile or ID number and every bulk read of personal data; "
                          "rows are only ever added."),
    "privacy.log.none": ("暂无记录", "Nothing recorded yet"),
    "privacy.col.at": ("时间", "When"),
    "privacy.col.user": ("用户", "User"),
    "privacy.col.action": ("操作", "Action"),
    "privacy.col.subject": ("对象", "Record"),
    "privacy.col.field": ("字段", "Field"),
    "privacy.col.reason": ("原因 / 条数", "Reason / records"),
})


@get("/privacy/access-log", guards=[requires(*ACCESS_LOG_READERS)], include_in_schema=False)
async def access_log_page(actor: Scope, sort: str = "", page: str = "", page_size: str = "") -> Template:
    want = ACCESS_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await access_log(actor=actor, want=want)
    return Template("privacy/access_log.html", context={
        "entries": found.items, "view": ListView("/privacy/access-log", ACCESS_LIST, want, found), "labels": LABELS})


async def revealed_fragment(request: Request, reveal: Callable[[str, str], Awaitable[str]]) -> Template:
    """Run `reveal(field, reason)` with the posted form: the clear value, or the refusal where the button was.

    A refusal is answered 200 so that htmx swaps it in (it swaps no 4xx); the JSON API answers 400/403/429.
    """
    form = await request.form()
    field, reason = str(form.get("field", ""))[:40], str(form.get("reason", ""))
    try:
        value = await reveal(field, reason)
    except (InvalidInput, Forbidden, RateLimited) as refused:
        headers = {"Retry-After": str(refused.retry_after)} if isinstance(refused, RateLimited) else {}
        return Template("privacy/_revealed.html", headers=headers,
                        context={"field": field, "value": "", "refusal": _message(refused)})
    return Template("privacy/_revealed.html", context={"field": field, "value": value, "refusal": None})


def _message(refused: InvalidInput | Forbidden | RateLimited) -> tuple[str, str]:
    if isinstance(refused, InvalidInput):
        return refused.problems[0].zh, refused.problems[0].en
    return refused.zh, refused.en


ROUTES = [access_log_page]
