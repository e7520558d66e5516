"""External channels: SMTP e-mail, WeCom and DingTalk group robots, a generic HTTP SMS gateway.

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

import aiosmtplib
import httpx

from crm.notify.tables import ChannelSetting
from crm.settings import get_settings

TIMEOUT = httpx.Timeout(10.0)


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

    @property
    def text(self) -> str:
        return "\n".join(part for part in (self.title, self.body, self.link) if part)


async def endpoint_for(group_id: int, channel: str) -> Endpoint:
    """The group's own setting for the channel, else the environment's; ChannelError if neither."""
    row = await ChannelSetting.select(ChannelSetting.url, ChannelSetting.secret, ChannelSetting.enabled).where(
        ChannelSetting.group == group_id, ChannelSetting.channel == channel
    ).first()
    if row is not None:
        if not row["enabled"]:
            raise ChannelError(f"{channel} is disabled for this group", permanent=True)
        return Endpoint(row["url"], row["secret"])
    settings = get_settings()
    fallback = {
        "email": Endpoint(_smtp_url_from_settings()) if settings.smtp_host else None,
        "wecom": Endpoint(settings.wecom_webhook_url) if settings.wecom_webhook_url else None,
        "dingtalk": Endpoint(settings.dingtalk_webhook_url, settings.dingtalk_secret)
        if settings.dingtalk_webhook_url else None,
        "sms": Endpoint(settings.sms_gateway_url, settings.sms_gateway_token) if settings.sms_gateway_url else None,
    }.get(channel)
    if fallback is None:
        raise ChannelError(f"no {channel} endpoint configured", permanent=True)
    return fallback


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
    mail.set_content("\n\n".join(part for part in (message.body, message.link) if part) or message.title)
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


async def send_wecom(endpoint: Endpoint, message: Message) -> None:
    """企业微信群机器人: text message, @-mentioning the recipient by mobile number."""
    body = {"msgtype": "text", "text": {"content": message.text, "mentioned_mobile_list": _mobiles(message)}}
    await _post_robot(endpoint.url, body)


async def send_dingtalk(endpoint: Endpoint, message: Message) -> None:
    """钉钉自定义机器人, signed: timestamp + HMAC-SHA256 of "timestamp\\nsecret" with the secret."""
    url = endpoint.url
    if endpoint.secret:
        timestamp = str(int(time.time() * 1000))
        url += ("&" if "?" in url else "?") + urllib.parse.urlencode(
            {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, endpoint.secret)}
        )
    body = {"msgtype": "text", "text": {"content": message.text}, "at": {"atMobiles": _mobiles(message)}}
    await _post_robot(url, body)


async def send_sms(endpoint: Endpoint, message: Message) -> None:
    """A generic HTTP SMS gateway: POST {"to", "text"} with a bearer token; any 2xx is accepted."""
    if not message.phone:
        raise ChannelError("recipient has no mobile number", permanent=True)
    headers = {"Authorization": f"Bearer {endpoint.secret}"} if endpoint.secret else {}
    response = await _post(endpoint.url, {"to": message.phone, "text": message.text}, headers)
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


def _smtp_url_from_settings() -> str:
    s = get_settings()
    auth = ""
    if s.smtp_username:
        auth = urllib.parse.quote(s.smtp_username, safe="") + ":" + urllib.parse.quote(s.smtp_password, safe="") + "@"
    query = urllib.parse.urlencode({"starttls": "1" if s.smtp_starttls else "0", "sender": s.smtp_sender})
    return f"smtp://{auth}{s.smtp_host}:{s.smtp_port}?{query}"
