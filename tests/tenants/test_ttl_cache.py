"""The caller cache: answers are reused for `ttl` seconds, then looked up again."""

from __future__ import annotations

from tenants.scope import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_answers_are_reused_until_ttl_then_reloaded():
    clock, loads = Clock(), []

    async def load():
        loads.append(clock.now)
        return len(loads)

    cache = TtlCache(ttl=5, clock=clock)
    assert await cache.get("k", load) == 1
    clock.now += 4.9
    assert await cache.get("k", load) == 1
    clock.now += 0.2
    assert await cache.get("k", load) == 2
    assert len(loads) == 2 and loads[1] > 105


async def test_zero_ttl_always_loads_and_none_is_cached_too():
    calls = []

    async def load():
        calls.append(1)
        return None

    assert await TtlCache(ttl=0).get("k", load) is None
    assert await TtlCache(ttl=0).get("k", load) is None
    cached = TtlCache(ttl=60)
    await cached.get("k", load)
    await cached.get("k", load)
    assert len(calls) == 3
