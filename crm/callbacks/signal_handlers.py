"""Deliveries and service visits recorded, changed or cancelled in the customer records → their callbacks;
a store's own complaint resolved → the revisit within 3 days in the store's callback queue.

Recording is batched per transaction: the ids are collected and planned once,
just before the transaction commits (`crm.db.before_commit`), so importing a
year of DMS history costs a few multi-row statements instead of several queries
per row — and a delivery still never commits without its callbacks.
"""

from __future__ import annotations

from collections import defaultdict
from contextvars import ContextVar

from crm.callbacks import scheduling
from crm.db import before_commit, engine, in_transaction
from tenants.scope import Scope

# The transaction the ids were recorded in, and (group_id, store_id) → (sale ids, visit ids) not yet planned.
# Keyed by the transaction so that ids of a rolled-back one are never planned by the next.
_recorded: ContextVar[tuple[object, dict[tuple[int, int], tuple[list[int], list[int]]]] | None] = ContextVar(
    "callbacks_recorded", default=None
)
FLUSH_AT = 5000


async def sale_recorded(*, group_id: int, store_id: int, sale_id: int, **_: object) -> None:
    await _collect(group_id, store_id, sale_ids=[sale_id])


async def visit_recorded(*, group_id: int, store_id: int, visit_id: int, **_: object) -> None:
    await _collect(group_id, store_id, visit_ids=[visit_id])


async def sale_changed(*, group_id: int, store_id: int, sale_id: int, **_: object) -> None:
    await _flush()  # a delivery recorded and changed in one transaction: plan it first, then move it
    await scheduling.reschedule_for_sale(group_id=group_id, store_id=store_id, sale_id=sale_id)


async def visit_changed(*, group_id: int, store_id: int, visit_id: int, **_: object) -> None:
    await _flush()
    await scheduling.reschedule_for_visit(group_id=group_id, store_id=store_id, visit_id=visit_id)


async def sale_cancelled(*, group_id: int, store_id: int, sale_id: int, **_: object) -> None:
    await _flush()
    await scheduling.cancel_for_source(group_id=group_id, source_type="sale", source_id=sale_id)


async def visit_cancelled(*, group_id: int, store_id: int, visit_id: int, **_: object) -> None:
    await _flush()
    await scheduling.cancel_for_source(group_id=group_id, source_type="service_visit", source_id=visit_id)


async def complaint_state_changed(
    *, group_id: int, store_id: int, complaint_id: int, from_state: str, to_state: str, **_: object
) -> None:
    """Complaints the group took are revisited by group customer service (their own queue); the store revisits its own."""
    if to_state == "resolved":
        from crm.complaints.tables import Complaint

        complaint = await Scope.system(group_id, store_id).select(
            Complaint,
            Complaint.group, Complaint.store, Complaint.customer, Complaint.vehicle, Complaint.via_group,
            Complaint.resolved_at,
        ).where(Complaint.id == complaint_id).first()
        if complaint and not complaint["via_group"]:
            await scheduling.schedule_complaint_revisit(
                group_id=complaint["group"], store_id=complaint["store"], complaint_id=complaint_id,
                customer_id=complaint["customer"], vehicle_id=complaint["vehicle"],
                resolved_at=complaint["resolved_at"],
            )
    elif from_state == "resolved":
        await scheduling.cancel_for_source(group_id=group_id, source_type="complaint", source_id=complaint_id)


async def _collect(group_id: int, store_id: int, *, sale_ids: list[int] = (), visit_ids: list[int] = ()) -> None:
    if not in_transaction():
        await scheduling.schedule_bulk(group_id=group_id, store_id=store_id, sale_ids=sale_ids, visit_ids=visit_ids)
        return
    current = engine().current_transaction.get()
    state = _recorded.get()
    if state is None or state[0] is not current:
        state = (current, defaultdict(lambda: ([], [])))
        _recorded.set(state)
        await before_commit(_flush)
    sales, visits = state[1][(group_id, store_id)]
    sales.extend(sale_ids)
    visits.extend(visit_ids)
    if len(sales) + len(visits) >= FLUSH_AT:
        await _flush()


async def _flush() -> None:
    """Plan what this transaction recorded so far (called before commit, and early when much has piled up)."""
    state = _recorded.get()
    if state is None or state[0] is not engine().current_transaction.get():
        return
    batches = list(state[1].items())
    state[1].clear()
    for (group_id, store_id), (sale_ids, visit_ids) in batches:
        await scheduling.schedule_bulk(group_id=group_id, store_id=store_id, sale_ids=sale_ids, visit_ids=visit_ids)
