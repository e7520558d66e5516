"""Notification pages (通知): the bell's list, the inbox page, channel preferences and report subscriptions
(报表订阅), failed deliveries for admins.

The bell loads `/notifications/menu` each time it opens; every entry links to
`/notifications/<id>`, which marks that notification read and goes on to its
subject. Opening is a GET on purpose: entries are plain links (new tab, toasts,
no JavaScript needed) and the only effect is on the caller's own read mark.
All rules live in `crm.notify.inbox`; these handlers translate and render.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.lists import ListView
from api.params import MAX_BIG_ID
from api.web.forms import existing_id, optional_int
from api.web.pages import safe_next
from crm.notify import inbox
from crm.notify.tables import EXTERNAL_CHANNELS
from crm.reports import service as report_service
from crm.reports.figures import KINDS
from tenants.errors import InvalidInput
from tenants.scope import Scope
from tenants.tables import Store

MENU_SIZE = 8


@get("/notifications/menu", include_in_schema=False)
async def menu(actor: Scope, next: str = "/notifications") -> Template:
    """The bell's panel: the latest notifications, unread ones highlighted; `next` is the page it opened on."""
    items = await inbox.list_mine(actor=actor, limit=MENU_SIZE)
    return Template("notifications/_menu.html", context={
        "items": items, "unread": await inbox.unread_count(actor=actor), "next": safe_next(next),
    })


@get("/notifications", include_in_schema=False)
async def inbox_page(request: Request[Scope, Any, Any], actor: Scope, unread: bool = False, sort: str = "",
                     page: str = "", page_size: str = "") -> Template:
    """All of the caller's notifications, newest first, a page at a time with the total."""
    want = inbox.INBOX_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await inbox.page_mine(actor=actor, filters=inbox.InboxFilter(unread_only=unread), want=want)
    return Template("notifications/inbox.html", context={
        "items": found.items, "unread_only": unread,
        "view": ListView("/notifications", inbox.INBOX_LIST, want, found, {"unread": "true" if unread else ""}),
        "unread": await inbox.unread_count(actor=actor),
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    })


@get("/notifications/{notification_id:int}", include_in_schema=False)
async def open_notification(actor: Scope, notification_id: int) -> Redirect:
    """Mark it read and go to what it is about (the inbox when it links nowhere)."""
    existing_id(notification_id, "notification", max_id=MAX_BIG_ID)
    row = await inbox.mark_read(actor=actor, notification_id=notification_id)
    return Redirect(path=safe_next(row["link"]) if row["link"] else "/notifications")


@post("/notifications/read-all", include_in_schema=False)
async def read_all(request: Request[Scope, Any, Any], actor: Scope) -> Redirect:
    await inbox.mark_all_read(actor=actor)
    form = await request.form()
    return Redirect(path=safe_next(str(form.get("next", "/notifications"))))


@get("/notification-settings", include_in_schema=False)
async def settings_page(actor: Scope, saved: bool = False) -> Template:
    return await _settings(actor, await inbox.preferences(actor=actor), saved=saved)


@post("/notification-settings", include_in_schema=False)
async def save_settings(request: Request[Scope, Any, Any], actor: Scope) -> Template | Redirect:
    form = await request.form()
    chosen = {channel: form.get(channel) == "1" for channel in EXTERNAL_CHANNELS}
    try:
        await inbox.set_preferences(actor=actor, channels=chosen)
    except InvalidInput as invalid:
        return await _settings(actor, chosen, problems=invalid.problems, status=400)
    return Redirect(path="/notification-settings?saved=1")


class SubscriptionPost(msgspec.Struct, kw_only=True):
    kind: str = ""
    store_id: str = ""
    user_id: str = ""


@post("/notification-settings/reports", include_in_schema=False)
async def subscribe_report(
    actor: Scope, data: Annotated[SubscriptionPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    """订阅报表: the caller (or, for the group admin, a person of the group) gets the report's PDF by e-mail."""
    try:
        if not data.kind:
            raise InvalidInput.one("kind", "请选择报表", "Choose a report")
        kind = KINDS.get(data.kind)
        store_id = None if kind is not None and kind.for_group else optional_int(data.store_id, "store_id")
        await report_service.subscribe(actor=actor, kind=data.kind, store_id=store_id,
                                       user_id=optional_int(data.user_id, "user_id"))
    except InvalidInput as invalid:
        return await _settings(actor, await inbox.preferences(actor=actor), report_problems=invalid.problems,
                               report_form=data, status=400)
    return Redirect(path="/notification-settings?saved=1#report-subscriptions", status_code=HTTP_303_SEE_OTHER)


@post("/notification-settings/reports/delete", include_in_schema=False)
async def unsubscribe_report(
    actor: Scope, data: Annotated[SubscriptionPost, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Template | Redirect:
    try:
        await report_service.unsubscribe(actor=actor, kind=data.kind, store_id=optional_int(data.store_id, "store_id"),
                                         user_id=optional_int(data.user_id, "user_id"))
    except InvalidInput as invalid:
        return await _settings(actor, await inbox.preferences(actor=actor), report_problems=invalid.problems,
                               status=400)
    return Redirect(path="/notification-settings?saved=1#report-subscriptions", status_code=HTTP_303_SEE_OTHER)


@get("/notification-failures", guards=[requires(*inbox.DELIVERY_ADMINS)], include_in_schema=False)
async def failures_page(actor: Scope, sort: str = "", page: str = "", page_size: str = "") -> Template:
    want = inbox.FAILED_LIST.parse(sort=sort, page=page, page_size=page_size)
    found = await inbox.failed_deliveries(actor=actor, want=want)
    return Template("notifications/failures.html", context={
        "rows": found.items, "view": ListView("/notification-failures", inbox.FAILED_LIST, want, found)})


async def _settings(actor: Scope, chosen: dict[str, bool], *, saved: bool = False, problems=None,
                    report_problems=None, report_form: SubscriptionPost | None = None, status: int = 200) -> Template:
    """The channels, and the report subscriptions of those who may read reports (all of the group's, for its admin)."""
    kinds = [k for k in KINDS.values() if report_service.may_request(actor, k)]
    stores = []
    if kinds:
        stores = await Store.select(Store.id, Store.name).where(
            Store.id.is_in(sorted(actor.store_ids) or [-1]), Store.group == (actor.group_id or -1)).order_by(Store.code)
    return Template("notifications/settings.html", status_code=status, context={
        "chosen": chosen, "channels": EXTERNAL_CHANNELS,
        "saved": saved, "problems": problems or [],
        "report_kinds": kinds, "report_stores": stores,
        "subscriptions": await report_service.subscription_list(actor=actor) if kinds else [],
        "recipients": await report_service.possible_recipients(actor=actor) if kinds else [],
        "manages_recipients": actor.has_role(*report_service.SUBSCRIPTION_MANAGERS),
        "report_problems": report_problems or [], "report_form": report_form or SubscriptionPost(),
    })


ROUTES = [menu, inbox_page, open_notification, read_all, settings_page, save_settings, subscribe_report,
          unsubscribe_report, failures_page]
