"""The embedded/demo mode's SMS "gateway" is the log; production (PostgreSQL) never falls back to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from crm.notify.channels import LOG_SMS, Endpoint, Message, environment_endpoint, send_sms
from crm.settings import Settings


def _settings(database_url: str, **fields) -> Settings:
    return Settings(var_dir=Path("/tmp"), database_url=database_url, redis_url=None, secret_key="x", **fields)


def test_embedded_mode_without_gateway_logs_sms():
    assert environment_endpoint("sms", _settings("sqlite:///var/dealerdesk.sqlite")) == Endpoint(LOG_SMS)


def test_a_configured_gateway_wins_even_in_embedded_mode():
    settings = _settings("sqlite:///var/dealerdesk.sqlite", sms_gateway_url="https://sms.example/send",
                         sms_gateway_token="tok")
    assert environment_endpoint("sms", settings) == Endpoint("https://sms.example/send", "tok")


def test_production_without_gateway_has_no_sms_endpoint():
    assert environment_endpoint("sms", _settings("postgresql://db/dealerdesk")) is None
    assert environment_endpoint("wecom", _settings("sqlite:///var/dealerdesk.sqlite")) is None


async def test_log_endpoint_records_the_message_and_sends_nothing():
    message = Message(title="", body="您的爱车走合保养时间到了", link="", email="", phone="13912345678", name="")
    with capture_logs() as logs:
        await send_sms(Endpoint(LOG_SMS), message)
    [entry] = [e for e in logs if e["event"] == "sms_logged"]
    assert entry["to"] == "139****5678" and "走合保养" in entry["text"]


async def test_log_endpoint_still_needs_a_number():
    from crm.notify.channels import ChannelError

    with pytest.raises(ChannelError) as failure:
        await send_sms(Endpoint(LOG_SMS), Message(title="", body="x", link="", email="", phone="", name=""))
    assert failure.value.permanent
