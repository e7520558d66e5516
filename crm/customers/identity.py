"""Group-wide customer identities (集团客户): one person or company across the group's stores.

Each store keeps its own profile (`Customer`); profiles whose normalised mobile
or ID number match share a `CustomerIdentity`, which is what lets HQ read one
customer's history across stores while each store reads only its own rows.
These functions run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm import clock
from crm.customers.tables import Customer, CustomerIdentity
from crm.privacy import vault
from tenants.scope import Scope


async def link_identity(*, group_id: int, mobile: str, id_number: str, name: str) -> int:
    """The group-wide identity for these (normalised) keys, created when none matches."""
    candidates = await identity_candidates(group_id, mobiles={mobile}, id_numbers={id_number})
    found = choose_identity(candidates, mobile=mobile, id_number=id_number)
    if found is not None:
        await complete_identity(found, mobile=mobile, id_number=id_number)
        return found["id"]
    identity = vault.seal_row(CustomerIdentity(
        group=group_id, mobile=mobile, id_number=id_number, name=name, created_at=clock.now()
    ))
    await identity.save()
    return identity.id


def choose_identity(candidates: Iterable[dict], *, mobile: str, id_number: str) -> dict | None:
    """The identity these keys belong to, among `candidates` (oldest wins).

    The ID number decides first. A mobile matches an identity only when their
    ID numbers do not contradict: a family phone shared by two people with
    different ID numbers must not merge them.
    """
    ordered = sorted(candidates, key=lambda c: c["id"])
    if id_number:
        for candidate in ordered:
            if candidate["id_number"] == id_number:
                return candidate
    if mobile:
        for candidate in ordered:
            if candidate["mobile"] == mobile and not (id_number and candidate["id_number"]):
                return candidate
    return None


async def identity_candidates(group_id: int, *, mobiles: set[str], id_numbers: set[str]) -> list[dict]:
    """The group's identities having any of these mobiles or ID numbers (in chunks: imports ask for thousands).

    Found by their keyed hashes: the values themselves are sealed."""
    found: list[dict] = []
    for column, keys in ((CustomerIdentity.mobile_hash, mobiles), (CustomerIdentity.id_number_hash, id_numbers)):
        keys = sorted(vault.lookup(k) for k in keys if k)
        for start in range(0, len(keys), 1000):
            found += await Scope.system(group_id).select(CustomerIdentity).where(column.is_in(keys[start:start + 1000]))
    return list({c["id"]: c for c in found}.values())


async def complete_identity(identity: dict, *, mobile: str, id_number: str) -> None:
    """Fill a key the identity did not have yet (a later store knew the ID number, say)."""
    missing = {}
    if mobile and not identity["mobile"]:
        missing["mobile"] = mobile
    if id_number and not identity["id_number"]:
        missing["id_number"] = id_number
    if missing:
        await Scope.system(identity["group"]).update(CustomerIdentity, missing).where(
            CustomerIdentity.id == identity["id"]
        )
        identity.update(missing)


async def relink_identity(row: dict, *, mobile: str, id_number: str, name: str) -> int:
    """After a change of mobile or ID number: join the matching identity, or keep (and re-key)
    the current one when this profile is its only member, or start a new one."""
    candidates = await identity_candidates(row["group"], mobiles={mobile}, id_numbers={id_number})
    found = choose_identity(candidates, mobile=mobile, id_number=id_number)
    current = row["group_identity"]
    if found is not None:
        await complete_identity(found, mobile=mobile, id_number=id_number)
        return found["id"]
    # Group-wide on purpose: another store's profile may share the identity and must keep its keys.
    shared = await Scope.system(row["group"]).count(Customer).where(
        Customer.group_identity == current, Customer.id != row["id"]
    )
    if not shared:
        await Scope.system(row["group"]).update(
            CustomerIdentity,
            {CustomerIdentity.mobile: mobile, CustomerIdentity.id_number: id_number, CustomerIdentity.name: name},
        ).where(CustomerIdentity.id == current)
        return current
    return await link_identity(group_id=row["group"], mobile=mobile, id_number=id_number, name=name)

