"""External channels: SMTP e-mail, WeCom and DingTalk group robots, a generic HTTP SMS gateway
(or, in the embedded/demo mode without one, the log).

Each `send_*` raises `ChannelError` on failure; `permanent=True` means retrying
cannot help (no endpoint configured, the recipient has no address, a 4xx answer).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import structlog

from crm.notify.tables import ChannelSetting
from crm.privacy.policy import mask
from crm.settings import Settings, get_settings
from tenants.scope import Scope

TIMEOUT = httpx.Timeout(10.0)
# The SMS "gateway" of the embedded/demo mode: the message goes to the log (see `environment_endpoint`).
LOG_SMS = "log:"

log = structlog.get_logger()


class ChannelError(Exception):
    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str = ""


@dataclass(frozen=True)
class Message:
    title: str
    body: str
    link: str
    email: str
    phone: str
    name: str
    attachment: Path | None = None  # e-mail only: attached when within `email_attachment_max_bytes`
    attachment_name: str = ""
    object_type: str = ""  # what the message is about (crm/notify/objects.py), sent beside the text in JSON bodies
    object_id: int | None = None

    @property
    def about(self) -> dict:
        """`object_type` and `object_id` for a JSON payload, or nothing when the message names no object."""
        return {"object_type": self.object_type, "object_id": self.object_id} if self.object_type else {}

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.body, self.link) if part)


async def endpoint_for(group_id: int, channel: str) -> Endpoint:
    """The group's own setting for the channel, else the environment's; ChannelError if neither."""
    row = await Scope.system(group_id).select(
        ChannelSetting, ChannelSetting.url, ChannelSetting.secret, ChannelSetting.enabled
    ).where(ChannelSetting.channel == channel).first()
    if row is not None:
        if not row["enabled"]:
            raise ChannelError(f"{channel} is disabled for this group", permanent=True)
        return Endpoint(row["url"], row["secret"])
    fallback = environment_endpoint(channel, get_settings())
    if fallback is None:
        raise ChannelError(f"no {channel} endpoint configured", permanent=True)
    return fallback


def environment_endpoint(channel: str, settings: Settings) -> Endpoint | None:
    """The channel's endpoint from the environment; SMS falls back to the log only in the embedded/demo mode."""
    sms = Endpoint(settings.sms_gateway_url, settings.sms_gateway_token) if settings.sms_gateway_url else None
    return {
        "email": Endpoint(_smtp_url_from_settings(settings)) if settings.smtp_host else None,
        "wecom": Endpoint(settings.wecom_webhook_url) if settings.wecom_webhook_url else None,
        "dingtalk": Endpoint(settings.dingtalk_webhook_url, settings.dingtalk_secret)
        if settings.dingtalk_webhook_url else None,
        "sms": Endpoint(LOG_SMS) if settings.sms_to_log else sms,
    }.get(channel)


async def send(channel: str, endpoint: Endpoint, message: Message) -> None:
    senders = {"email": send_email, "wecom": send_wecom, "dingtalk": send_dingtalk, "sms": send_sms}
    await senders[channel](endpoint, message)


async def send_email(endpoint: Endpoint, message: Message) -> None:
    if not message.email:
        raise ChannelError("recipient has no e-mail address", permanent=True)
    url = urllib.parse.urlsplit(endpoint.url)
    options = dict(urllib.parse.parse_qsl(url.query))
    mail = EmailMessage()
    mail["From"] = options.get("sender", get_settings().smtp_sender)
    mail["To"] = message.email
    mail["Subject"] = message.title
    attached = _attachable(message)
    note = ""
    if message.attachment is not None and attached is None:
        note = "附件过大或已不存在，请通过以下链接下载。/ The attachment is too large or gone: download it from the link."
    mail.set_content("\n\n".join(part for part in (message.body, note, message.link) if part) or message.title)
    if attached is not None:
        mail.add_attachment(attached, maintype="application", subtype=_subtype(message.attachment_name),
                            filename=message.attachment_name)
    try:
        await aiosmtplib.send(
            mail,
            hostname=url.hostname or "localhost",
            port=url.port or 25,
            username=urllib.parse.unquote(url.username) if url.username else None,
            password=urllib.parse.unquote(url.password) if url.password else None,
            start_tls=options.get("starttls") == "1",
            timeout=10,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise ChannelError(f"recipient refused: {exc}", permanent=True) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"smtp: {exc!r}") from exc


def _attachable(message: Message) -> bytes | None:
    """The attachment's bytes, or None when there is none, it is gone or above the size limit (the link stays)."""
    if message.attachment is None:
        return None
    try:
        if message.attachment.stat().st_size > get_settings().email_attachment_max_bytes:
            return None
        return message.attachment.read_bytes()
    except OSError:
        return None


def _subtype(name: str) -> str:
    return {"pdf": "pdf", "xlsx": "vnd.openxmlformats-officedocument.spreadsheetml.sheet"}.get(
        name.rsplit(".", 1)[-1].lower(), "octet-stream")


async def send_wecom(endpoint: Endpoint, message: Message) -> None:
    """企业微信群机器人: text message, @-mentioning the recipient by mobile number."""
    body = {"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": _mobiles(message)},
            **message.about}
    await _post_robot(endpoint.url, body)


async def send_dingtalk(endpoint: Endpoint, message: Message) -> None:
    """钉钉自定义机器人, signed: timestamp + HMAC-SHA256 of "timestamp\\nsecret" with the secret."""
    url = endpoint.url
    if endpoint.secret:
        timestamp = str(int(time.time() * 1000))
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(
            {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, endpoint.secret)}
        )
    body = {"msgtype": "text", "text": {"content": message.text}, "at": {"atMobiles": _mobiles(message)},
            **message.about}
    await _post_robot(url, body)


async def send_sms(endpoint: Endpoint, message: Message) -> None:
    """A generic HTTP SMS gateway: POST {"to", "text"} (and the object_type / object_id the message is about)
    with a bearer token; any 2xx is accepted.

    The `log:` endpoint (embedded/demo mode only, see `Settings.sms_to_log`) writes the message to the log instead.
    """
    if not message.phone:
        raise ChannelError("recipient has no mobile number", permanent=True)
    if endpoint.url == LOG_SMS:
        log.info("sms_logged", to=mask("mobile", message.phone), text=message.text, note="demo mode: no SMS gateway configured")
        return
    headers = {"Authorization": f"Bearer {endpoint.secret}"} if endpoint.secret else {}
    response = await _post(endpoint.url, {"to": message.phone, "text": message.text, **message.about}, headers)
    _raise_for_status(response)


def dingtalk_sign(timestamp: str, secret: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


async def _post_robot(url: str, body: dict) -> None:
    """Both robots answer 200 with {"errcode": 0} on success and a non-zero errcode otherwise."""
    response = await _post(url, body, {})
    _raise_for_status(response)
    try:
        errcode = response.json().get("errcode", 0)
    except ValueError:
        errcode = 0
    if errcode:
        raise ChannelError(f"robot answered errcode {errcode}: {response.text[:200]}")


async def _post(url: str, body: dict, headers: dict) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            return await client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise ChannelError(f"http: {exc!r}") from exc


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 300:
        return
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    raise ChannelError(f"HTTP {response.status_code}: {response.text[:200]}", permanent=permanent)


def _mobiles(message: Message) -> list[str]:
    return [message.phone] if message.phone else []


def _smtp_url_from_settings(s: Settings) -> str:
    auth = ""
    if s.smtp_username:
        auth = urllib.parse.quote(s.smtp_username, safe="") + ":" + urllib.parse.quote(s.smtp_password, safe="") + "@"
    query = urllib.parse.urlencode({"starttls": "1" if s.smtp_starttls else "0", "sender": s.smtp_sender})
    return f"smtp://{auth}{s.smtp_host}:{s.smtp_port}?{query}"
