"""Names of the places a user works in (集团 / 门店), for display."""

from __future__ import annotations

from dataclasses import dataclass

from tenants.errors import InvalidInput
from tenants.scope import Scope, timezone_of
from tenants.tables import DealerGroup, Store


@dataclass(frozen=True)
class Workplace:
    group_name: str
    store_name: str | None
    timezone: str


async def workplace_of(actor: Scope) -> Workplace:
    """The caller's group and home store; a store's own timezone wins over its group's."""
    group = None
    if actor.group_id is not None:
        group = await DealerGroup.select(DealerGroup.name).where(
            DealerGroup.id == actor.group_id
        ).first()
    store = None
    if actor.home_store_id is not None:
        store = await Store.select(Store.name).where(
            Store.id == actor.home_store_id, Store.group == (actor.group_id or -1)
        ).first()
    zone = await timezone_of(store=actor.home_store_id) if store else await timezone_of(group=actor.group_id)
    return Workplace(
        group_name=group["name"] if group else "",
        store_name=store["name"] if store else None,
        timezone=zone.key,
    )


async def require_open_store(store_id: int, field: str = "store_id") -> None:
    """New work (a complaint taken or re-routed) goes only to an open store; a closed one keeps its history only."""
    store = await Store.select(Store.active).where(Store.id == store_id).first()
    if store is not None and not store["active"]:
        raise InvalidInput.one(field, "该门店已关闭，不能再接收新的工作", "The store is closed and takes no new work")
