"""Timer handlers of callbacks: a callback's `callback.due` timer fired."""

from __future__ import annotations

from crm.callbacks.scheduling import TIMER_KIND
from crm.callbacks.service import mark_due
from crm.timers.registry import FiredTimer


async def callback_due(timer: FiredTimer) -> None:
    await mark_due(callback_id=timer.subject_id, group_id=timer.group_id, store_id=timer.store_id)


HANDLERS = {TIMER_KIND: callback_due}
