"""Which function handles which timer kind.

Each area keeps its handlers in `crm/<area>/timer_handlers.py`:

    from crm.timers.registry import FiredTimer, on_timer

    @on_timer("complaint.accept_due")
    async def accept_due(timer: FiredTimer) -> None: ...

and lists that module once in `HANDLER_MODULES` below. A handler runs inside the
transaction that marks the timer fired, so its effect and "fired" commit
together; it must not catch and swallow database errors.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# One line per area, e.g. "crm.complaints.timer_handlers",
HANDLER_MODULES: list[str] = [
    "crm.callbacks.timer_handlers",
    "crm.complaints.timer_handlers",
    "crm.customers.timer_handlers",
    "crm.major.timer_handlers",
]


@dataclass(frozen=True)
class FiredTimer:
    """What a handler gets: ids and the payload, never ORM objects (load fresh state yourself)."""

    id: int
    kind: str
    group_id: int
    store_id: int | None
    subject_type: str
    subject_id: int
    payload: dict[str, Any] = field(default_factory=dict)
    due_at: datetime | None = None


Handler = Callable[[FiredTimer], Awaitable[None]]

_handlers: dict[str, Handler] = {}


def on_timer(kind: str) -> Callable[[Handler], Handler]:
    """Register the handler of one timer kind (one handler per kind)."""

    def register(handler: Handler) -> Handler:
        existing = _handlers.get(kind)
        if existing is not None and _name(existing) != _name(handler):
            raise ValueError(f"timer kind {kind!r} already handled by {_name(existing)}")
        _handlers[kind] = handler
        return handler

    return register


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def load_handlers() -> list[str]:
    """Import every handler module (the worker calls this at start-up).

    `TIMER_HANDLER_MODULES` (comma-separated) adds modules, e.g. a test's handlers in a worker subprocess.
    """
    extra = [m.strip() for m in os.environ.get("TIMER_HANDLER_MODULES", "").split(",") if m.strip()]
    for module in HANDLER_MODULES + extra:
        importlib.import_module(module)
    return sorted(_handlers)


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"
