"""The instants the suite runs at, so that no test depends on the machine's clock.

Every test starts at `PINNED` (a workday morning, China time) unless it travels
elsewhere; the rules most sensitive to time are checked at each of `INSTANTS`.
Processes a test starts (workers, the browser tests' server) follow the same
timeline through `pinned_command` / `pinned_env`.
"""

from __future__ import annotations

import os
import sys
import time as _time
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from time_machine import escape_hatch

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEST_NOW_ENV = "DEALERDESK_TEST_NOW"


def china(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=SHANGHAI)


WORKDAY_MORNING = china(date(2026, 12, 2), time(10, 0))  # Wednesday
WORKDAY_EVENING = china(date(2026, 12, 2), time(19, 30))  # after closing, still inside the contact window
NIGHT = china(date(2026, 12, 3), time(2, 0))  # Thursday 02:00, quiet hours
SUNDAY = china(date(2026, 12, 6), time(10, 0))
MAKEUP_SATURDAY = china(date(2026, 10, 10), time(10, 0))  # 调休: a Saturday that is a working day
BEFORE_HOLIDAY = china(date(2026, 9, 30), time(16, 0))  # Wednesday before 国庆 (Oct 1–7)

PINNED = WORKDAY_MORNING
INSTANTS = {
    "workday_morning": WORKDAY_MORNING,
    "workday_19_30": WORKDAY_EVENING,
    "night_02_00": NIGHT,
    "sunday": SUNDAY,
    "makeup_saturday": MAKEUP_SATURDAY,
    "before_holiday": BEFORE_HOLIDAY,
}

def _real_time() -> float:
    return escape_hatch.time.time() if escape_hatch.is_travelling() else _time.time()


_session_real_start = _real_time()


def session_now() -> datetime:
    """PINNED plus the real time the session has run: the clock of processes that live for the whole session."""
    elapsed = _real_time() - _session_real_start
    return datetime.fromtimestamp(PINNED.timestamp() + elapsed, tz=SHANGHAI)


def pinned_env(env: dict[str, str] | None = None, *, at: datetime | None = None) -> dict[str, str]:
    """The environment for a child process whose clock starts at `at` (default: this process's clock now)."""
    from crm import clock

    env = dict(os.environ if env is None else env)
    env[TEST_NOW_ENV] = (at or clock.now()).isoformat()
    return env


def pinned_command(module: str, *args: str) -> list[str]:
    """`python -m module args` run under the clock that `pinned_env` hands down."""
    return [sys.executable, "-m", "tests.support.pinned_process", module, *args]
