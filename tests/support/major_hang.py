"""Loaded into a worker subprocess (TIMER_HANDLER_MODULES) to kill it mid-escalation: the real
`major.report_missing` handler runs, then — the first time only — the job hangs with its
transaction still open until the test SIGKILLs the worker."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from crm.major import timer_handlers
from crm.timers.registry import FiredTimer
from tests.support.major import HANG_MARKER_ENV


async def escalate_then_hang_once(timer: FiredTimer) -> None:
    await timer_handlers.report_missing(timer)
    marker = Path(os.environ[HANG_MARKER_ENV])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        await asyncio.sleep(3600)  # the test SIGKILLs this worker here


# Replaces the product's handler in this test's worker only (TIMER_HANDLER_MODULES may replace);
# a process without the marker setting keeps the real one.
HANDLERS = {"major.report_missing": escalate_then_hang_once} if HANG_MARKER_ENV in os.environ else {}
