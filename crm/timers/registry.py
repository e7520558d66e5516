"""Which function handles which timer kind.

Each area lists its handlers in `crm/<area>/timer_handlers.py` as a table,

    HANDLERS = {"complaint.accept_due": deadline_passed, ...}

and `crm.wiring.connect_all()` registers every table at start-up (app, worker,
launcher, tests). Nothing registers itself on import. A handler runs inside the
transaction that marks the timer fired, so its effect and "fired" commit
together; it must not catch and swallow database errors. Scheduling a kind that
has no handler is refused (`schedule_timer`), so a deadline can never be written
that nobody would act on.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tenants.scope import Scope


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

    @property
    def scope(self) -> Scope:
        """The handler's scope: the timer row's own group and store."""
        return Scope.system(self.group_id, self.store_id)


Handler = Callable[[FiredTimer], Awaitable[None]]

_handlers: dict[str, Handler] = {}


class UnknownTimerKind(LookupError):
    """A timer kind without a handler: a programming error, caught by the test suite."""


def register(handlers: Mapping[str, Handler], *, replace: bool = False) -> None:
    """Register a table of handlers; a kind keeps its one handler unless `replace` says otherwise."""
    for kind, handler in handlers.items():
        existing = _handlers.get(kind)
        if existing is not None and existing is not handler and not replace:
            raise ValueError(f"timer kind {kind!r} already handled by {_name(existing)}")
        _handlers[kind] = handler


def handler_for(kind: str) -> Handler | None:
    return _handlers.get(kind)


def require_handler(kind: str) -> None:
    if kind not in _handlers:
        raise UnknownTimerKind(f"no handler for timer kind {kind!r}: add it to its area's HANDLERS")


def handled_kinds() -> list[str]:
    return sorted(_handlers)


def register_extra_modules() -> list[str]:
    """Handler tables named by `TIMER_HANDLER_MODULES` (comma-separated): a test's or a benchmark's, in a worker.

    Each module has a `HANDLERS` table; it may replace a product handler (a test that kills a worker mid-job).
    """
    modules = [m.strip() for m in os.environ.get("TIMER_HANDLER_MODULES", "").split(",") if m.strip()]
    for module in modules:
        register(importlib.import_module(module).HANDLERS, replace=True)
    return modules


def _name(handler: Handler) -> str:
    return f"{handler.__module__}.{handler.__qualname__}"
