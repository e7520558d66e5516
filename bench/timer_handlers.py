"""The benchmark's timer kind: firing is the whole effect (the state change and fired_at)."""

from crm.timers.registry import FiredTimer


async def fire(timer: FiredTimer) -> None:
    return None


HANDLERS = {"bench.fire": fire}
