"""The benchmark's timer kind: firing is the whole effect (the state change and fired_at)."""

from crm.timers.registry import FiredTimer, on_timer


@on_timer("bench.fire")
async def fire(timer: FiredTimer) -> None:
    return None
