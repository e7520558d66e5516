"""Hooks: a lower layer announces what happened, higher layers connect handlers (dependencies point down)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[..., Awaitable[Any]]


class Signal:
    """A named list of async handlers; `send` awaits each in the order they connected."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Handler] = []

    def connect(self, handler: Handler) -> Handler:
        """Register `handler` (usable as a decorator); connecting the same function twice is a no-op."""
        if handler not in self._handlers:
            self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Handler) -> None:
        if handler in self._handlers:
            self._handlers.remove(handler)

    async def send(self, **kwargs: Any) -> None:
        for handler in list(self._handlers):
            await handler(**kwargs)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, handlers={len(self._handlers)})"
