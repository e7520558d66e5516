"""Subscribers get the report's PDF attached to their e-mail (over the notify tests' real SMTP server): recorded
once, retried like every notification, and sent as the link alone when the file is above the size limit."""

from __future__ import annotations

from dataclasses import replace
from email import message_from_bytes, policy
from datetime import timedelta

import time_machine

from crm import clock
from crm.notify import channels, delivery
from crm.notify.tables import ChannelSetting, Notification
from crm.reports import service
from crm.settings import get_settings
from deploy.services import free_port
from tenants.tables import User
from tests.support.pdf_text import extract
from tests.support.receivers import smtp_server
from tests.support.reports import NOW, build_november, run_render_job

TITLE = "月份客户投诉处理统计月报表"


async def _subscribed_report(tenant) -> tuple[int, int]:
    """Store A's GM subscribes to store A's complaint report, which is then made: (report id, e-mail row id)."""
    gm = tenant.users["store_gm@A"]
    await User.update({User.email: "gm-a@example.test"}).where(User.id == gm)
    await build_november(tenant)
    await service.subscribe(actor=await tenant.scope("store_gm@A"), kind="complaint_month", store_id=tenant.store_a)
    report_id = await service.request_report(actor=await tenant.scope("store_cr_manager@A"), kind="complaint_month",
                                             month="2026-11", store_id=tenant.store_a)
    assert (await run_render_job(report_id))["subscribers"] == 2  # in-app and e-mail
    rows = await Notification.select(Notification.id).where(
        Notification.recipient == gm, Notification.kind == "report_ready", Notification.channel == "email")
    assert len(rows) == 1
    return report_id, rows[0]["id"]


def _modern(mail):
    """The received message with the standard library's current API (attachments, body)."""
    return message_from_bytes(mail.as_bytes(), policy=policy.default)


async def _use_smtp(group_id: int, url: str) -> None:
    await ChannelSetting.delete().where(ChannelSetting.group == group_id, ChannelSetting.channel == "email")
    await ChannelSetting.insert(ChannelSetting(group=group_id, channel="email", url=url, updated_at=clock.now()))


async def test_the_pdf_is_attached_sent_once_after_a_retry(tenant):
    with time_machine.travel(NOW, tick=False):
        report_id, notification_id = await _subscribed_report(tenant)
        await _use_smtp(tenant.group_id, f"smtp://127.0.0.1:{free_port()}")  # nobody listens: a transient failure
        assert (await delivery.deliver(notification_id))["outcome"] == "retry"
    with smtp_server() as smtp, time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        await _use_smtp(tenant.group_id, smtp.url)
        assert (await delivery.deliver(notification_id))["outcome"] == "delivered"
        assert (await delivery.deliver(notification_id))["outcome"] == "skipped"
        await delivery.deliver_due()
    assert len(smtp.messages) == 1
    mail = _modern(smtp.messages[0])
    assert mail["To"] == "gm-a@example.test"
    attachments = list(mail.iter_attachments())
    assert len(attachments) == 1 and attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename().startswith(TITLE) and attachments[0].get_filename().endswith(".pdf")
    pdf = attachments[0].get_payload(decode=True)
    assert TITLE in extract(pdf).text
    body = mail.get_body(("plain",)).get_content()
    assert "PDF 见附件" in body and f"/reports/{report_id}/download?format=pdf" in body
    row = await Notification.select().where(Notification.id == notification_id).first()
    assert row["status"] == "delivered" and row["attempts"] == 2


async def test_a_pdf_above_the_limit_is_sent_as_its_link(tenant, monkeypatch):
    settings = replace(get_settings(), email_attachment_max_bytes=1000)
    monkeypatch.setattr(channels, "get_settings", lambda: settings)
    with time_machine.travel(NOW, tick=False):
        report_id, notification_id = await _subscribed_report(tenant)
        with smtp_server() as smtp:
            await _use_smtp(tenant.group_id, smtp.url)
            assert (await delivery.deliver(notification_id))["outcome"] == "delivered"
    mail = _modern(smtp.messages[0])
    assert list(mail.iter_attachments()) == []
    body = mail.get_body(("plain",)).get_content()
    assert "附件过大" in body and f"{get_settings().public_base_url}/reports/{report_id}/download?format=pdf" in body
