"""The escalation benchmark's baseline timer kind: firing is the whole effect (state and fired_at)."""

from crm.timers.registry import FiredTimer


async def fire(timer: FiredTimer) -> None:
    return None


HANDLERS = {"bench.major_baseline": fire}
