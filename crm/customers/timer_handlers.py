"""The timers of correction requests (修正表): the reminder before the 24 hours run out, and the deadline."""

from __future__ import annotations

from crm.customers import corrections
from crm.timers.registry import FiredTimer


async def correction_reminder(timer: FiredTimer) -> None:
    await corrections.remind(correction_id=timer.subject_id, group_id=timer.group_id, store_id=timer.store_id)


async def correction_deadline(timer: FiredTimer) -> None:
    await corrections.deadline_passed(correction_id=timer.subject_id, group_id=timer.group_id,
                                      store_id=timer.store_id)


HANDLERS = {corrections.REMIND_KIND: correction_reminder, corrections.DUE_KIND: correction_deadline}
