"""Loaded into a worker subprocess (TIMER_HANDLER_MODULES) to kill it mid-escalation: the real
`major.report_missing` handler runs, then — the first time only — the job hangs with its
transaction still open until the test SIGKILLs the worker."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from crm.major import timer_handlers
from crm.timers import registry
from crm.timers.registry import FiredTimer

MARKER_ENV = "MAJOR_HANG_MARKER"


async def escalate_then_hang_once(timer: FiredTimer) -> None:
    await timer_handlers.report_missing(timer)
    marker = Path(os.environ[MARKER_ENV])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        await asyncio.sleep(3600)  # the test SIGKILLs this worker here


# Replacing a registered handler is for this test only (`on_timer` refuses a second handler on purpose).
registry._handlers["major.report_missing"] = escalate_then_hang_once
