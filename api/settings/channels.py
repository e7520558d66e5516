"""通知渠道: the group's SMTP server, WeCom and DingTalk robots and SMS gateway, each with a "send a test" that
really sends through the channel as saved and shows its answer. Saved by `crm.notify.inbox`."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.auth import requires
from api.settings.menu import settings_context
from crm.notify import inbox
from crm.notify.tables import EXTERNAL_CHANNELS
from tenants.errors import InvalidInput, NotFound
from tenants.scope import Scope


CHANNEL_TITLES = {"email": ("电子邮件（SMTP）", "E-mail (SMTP)"), "wecom": ("企业微信群机器人", "WeCom group robot"),
                  "dingtalk": ("钉钉群机器人", "DingTalk group robot"), "sms": ("短信网关", "SMS gateway")}
URL_TITLES = {
    "email": ("SMTP 地址，如 smtp://用户名:密码@smtp.example.com:587?starttls=1&sender=crm@example.com",
              "SMTP URL, e.g. smtp://user:password@smtp.example.com:587?starttls=1&sender=crm@example.com"),
    "wecom": ("机器人 Webhook 地址", "Robot webhook URL"),
    "dingtalk": ("机器人 Webhook 地址", "Robot webhook URL"),
    "sms": ("短信网关地址（POST 收件号码与内容）", "Gateway URL (POST the number and the text)"),
}
SECRET_TITLES = {"email": ("密钥（留空则不修改）", "Secret (leave empty to keep)"),
                 "dingtalk": ("加签密钥（留空则不修改）", "Signing secret (leave empty to keep)"),
                 "sms": ("网关令牌（留空则不修改）", "Gateway token (leave empty to keep)")}
TEST_TO_TITLES = {"email": ("测试收件邮箱", "Send the test to (e-mail)"), "sms": ("测试手机号", "Send the test to (mobile)"),
                  "wecom": ("@提醒的手机号（可留空）", "Mobile to @-mention (optional)"),
                  "dingtalk": ("@提醒的手机号（可留空）", "Mobile to @-mention (optional)")}


@get("/settings/notification-channels", guards=[requires(*inbox.DELIVERY_ADMINS)], include_in_schema=False)
async def channels_page(actor: Scope) -> Template:
    return await _page(actor)


@post("/settings/notification-channels/{channel:str}", guards=[requires(*inbox.DELIVERY_ADMINS)],
      include_in_schema=False)
async def channel_submit(request: Request[Scope, Any, Any], actor: Scope, channel: str) -> Template | Redirect:
    _known(channel)
    form = await request.form()
    typed = {"url": str(form.get("url", "")).strip(), "enabled": form.get("enabled") == "yes"}
    secret = str(form.get("secret", "")).strip()
    try:
        await inbox.set_channel_setting(actor=actor, channel=channel, url=typed["url"] or None, secret=secret or None,
                                        enabled=typed["enabled"])
    except InvalidInput as problem:
        return await _page(actor, channel=channel, typed=typed, errors=problem.problems, status_code=400)
    return Redirect(path=f"/settings/notification-channels?saved=1#channel-{channel}", status_code=HTTP_303_SEE_OTHER)


@post("/settings/notification-channels/{channel:str}/test", guards=[requires(*inbox.DELIVERY_ADMINS)],
      include_in_schema=False)
async def channel_test(request: Request[Scope, Any, Any], actor: Scope, channel: str) -> Template:
    _known(channel)
    to = str((await request.form()).get("to", "")).strip()
    try:
        result = await inbox.send_test(actor=actor, channel=channel, to=to)
    except InvalidInput as problem:
        return await _page(actor, channel=channel, test_to=to, test_errors=problem.problems, status_code=400)
    return await _page(actor, channel=channel, test_to=to, result=result)


ROUTES = [channels_page, channel_submit, channel_test]


async def _page(actor: Scope, *, channel: str = "", typed: dict | None = None, errors: list | None = None,
                test_to: str = "", test_errors: list | None = None, result: inbox.TestResult | None = None,
                status_code: int = 200) -> Template:
    """Each channel's saved setting (never its secret); the channel just posted keeps what was typed and its answer."""
    saved = {s["channel"]: s for s in await inbox.channel_settings(actor=actor)}
    cards = []
    for name in EXTERNAL_CHANNELS:
        setting = saved.get(name)
        mine = name == channel
        cards.append({
            "channel": name, "setting": setting,
            "form": typed if mine and typed else {"url": "", "enabled": setting["enabled"] if setting else True},
            "errors": errors if mine else [], "test_errors": test_errors if mine else [],
            "test_to": test_to if mine else "", "result": result if mine else None,
        })
    return Template("settings/channels.html", status_code=status_code,
                    context={**settings_context(actor, "notification_channels"), "cards": cards,
                             "channel_titles": CHANNEL_TITLES, "url_titles": URL_TITLES, "secret_titles": SECRET_TITLES,
                             "test_to_titles": TEST_TO_TITLES,
                             "errors": errors or test_errors or []},
                    headers={"Cache-Control": "no-store"})


def _known(channel: str) -> None:
    if channel not in EXTERNAL_CHANNELS:
        raise NotFound("channel")
