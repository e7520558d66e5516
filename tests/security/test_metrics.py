"""Prometheus `/metrics`: only for the operators' token; requests by route template, deadlines' lateness, queue.

In-process against the suite's PostgreSQL and Redis; the clock travels to 2020 so that no other test's timers
are overdue at that instant.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crm.db import transaction
from crm.settings import get_settings
from crm.timers.service import cancel_timers, schedule_timer

LONG_AGO = datetime(2020, 1, 6, 2, 0, tzinfo=UTC)
TOKEN = "operators-scrape-token-for-tests"


@pytest.fixture
def metrics_token(monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", TOKEN)
    get_settings.cache_clear()
    yield {"Authorization": f"Bearer {TOKEN}"}
    monkeypatch.delenv("METRICS_TOKEN")
    get_settings.cache_clear()


def figure(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} missing from /metrics"
    return float(match.group(1))


async def test_metrics_do_not_exist_without_the_operators_token_setting(client):
    assert (await client.get("/metrics")).status_code == 404


async def test_metrics_refuse_a_missing_or_wrong_token_and_a_users_api_token(client, tenant, metrics_token):
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers={"Authorization": "Bearer not-it"})).status_code == 401
    assert (await client.get("/metrics", headers=await tenant.headers("group_admin"))).status_code == 401


async def test_metrics_count_requests_by_route_template(client, tenant, metrics_token):
    complaint_path = "/api/v1/complaints/999999999"
    assert (await client.get(complaint_path, headers=await tenant.headers("hq_viewer"))).status_code == 404
    text = (await client.get("/metrics", headers=metrics_token)).text
    assert complaint_path not in text, "raw paths with ids would make a series per record"
    assert re.search(r'dealerdesk_requests_total\{[^}]*path="/api/v1/complaints/\{complaint_id[^"]*"', text)


async def test_metrics_show_how_late_the_oldest_overdue_timer_is(client, tenant, metrics_token):
    with time_machine.travel(LONG_AGO, tick=False) as traveller:
        async with transaction():
            await schedule_timer(kind="test.effect", due_at=LONG_AGO, group_id=tenant.group_id,
                                 store_id=tenant.store_a, subject_type="metrics-test", subject_id=1)
        before = (await client.get("/metrics", headers=metrics_token)).text
        assert figure(before, "dealerdesk_timers_overdue") == 0
        traveller.shift(timedelta(seconds=90))
        after = (await client.get("/metrics", headers=metrics_token)).text
        assert figure(after, "dealerdesk_timers_overdue") == 1
        assert figure(after, "dealerdesk_timer_lateness_seconds") == 90
        assert figure(after, "dealerdesk_queue_depth") >= 0
        assert figure(after, "dealerdesk_notifications_failed") >= 0
        async with transaction():
            await cancel_timers(subject_type="metrics-test", subject_id=1)
