"""The one clock of the product. Everything that asks "what time is it" asks here.

Tests travel in time with `time-machine`, which moves `datetime.now`; code that
needs a fixed instant can also `set_clock` a function of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return _now()


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Inject a clock (None restores the real one)."""
    global _now
    _now = clock or (lambda: datetime.now(timezone.utc))
