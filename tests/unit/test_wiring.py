"""One function connects every cross-area handler; importing a module connects nothing;
a timer kind without a handler cannot be scheduled."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from crm import clock
from crm.callbacks import messages, signal_handlers
from crm.complaints import events as complaint_events
from crm.customers import events as customer_events
from crm.db import transaction
from crm.major import service as major
from crm.notify import events as notify_events
from crm.timers import registry
from crm.timers.service import schedule_timer
from crm.timers.tables import Timer
from crm.wiring import connect_all

ROOT = Path(__file__).resolve().parents[2]


def test_each_signal_has_exactly_its_handlers():
    connect_all()
    connect_all()  # twice changes nothing
    assert _handlers(customer_events.sale_recorded) == [signal_handlers.sale_recorded]
    assert _handlers(customer_events.sale_changed) == [signal_handlers.sale_changed]
    assert _handlers(customer_events.sale_cancelled) == [signal_handlers.sale_cancelled]
    assert _handlers(customer_events.visit_recorded) == [signal_handlers.visit_recorded]
    assert _handlers(customer_events.visit_changed) == [signal_handlers.visit_changed]
    assert _handlers(customer_events.visit_cancelled) == [signal_handlers.visit_cancelled]
    assert _handlers(complaint_events.complaint_created) == [major.on_complaint_created]
    assert _handlers(complaint_events.complaint_state_changed) == [
        major.on_complaint_state_changed, signal_handlers.complaint_state_changed,
    ]
    assert _handlers(notify_events.delivery_settled) == [messages.sms_settled]


def test_every_product_timer_kind_has_its_handler():
    connect_all()
    product = [k for k in registry.handled_kinds() if not k.startswith("test.")]
    assert product == sorted([
        "callback.due",
        "complaint.accept_due", "complaint.appeal_forward_due", "complaint.appeal_forward_remind",
        "complaint.appeal_ruling_due", "complaint.appeal_ruling_remind", "complaint.feedback_due", "complaint.handle_due", "complaint.report_due",
        "complaint.revisit_due",
        "customer_correction.due", "customer_correction.remind",
        "major.forward_due", "major.renotify", "major.report_missing", "major.unresolved",
        "repeat.decision_due", "repeat.decision_remind",
    ])


def test_importing_every_module_connects_nothing():
    """A fresh interpreter imports all of crm/, api/ and workers/ and finds no handler anywhere."""
    script = """
import importlib, pkgutil
import crm, api, workers
for package in (crm, api, workers):
    for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if ".piccolo_migrations" not in module.name:
            importlib.import_module(module.name)
from crm.signals import Signal
import gc
connected = [s for s in gc.get_objects() if isinstance(s, Signal) and s._handlers]
from crm.timers import registry
print(len(connected), len(registry.handled_kinds()))
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["0", "0"]


async def test_a_timer_kind_without_a_handler_is_refused_and_nothing_is_written(db_pool, tenant):
    with pytest.raises(registry.UnknownTimerKind):
        async with transaction():
            await schedule_timer(kind="nobody.handles_this", due_at=clock.now() + timedelta(hours=1),
                                 group_id=tenant.group_id, store_id=tenant.store_a, subject_type="test", subject_id=1)
    assert not await Timer.exists().where(Timer.kind == "nobody.handles_this")


def _handlers(signal):
    return list(signal._handlers)
