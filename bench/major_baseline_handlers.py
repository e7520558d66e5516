"""The escalation benchmark's baseline timer kind: firing is the whole effect (state and fired_at)."""

from crm.timers.registry import FiredTimer, on_timer


@on_timer("bench.major_baseline")
async def fire(timer: FiredTimer) -> None:
    return None
