"""Test data builders: real rows in the real database, unique per call."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from tenants.accounts import create_user, hash_password, issue_token
from tenants.roles import GROUP_ROLES, STORE_ROLES, Role
from tenants.scope import Scope, scope_for_user
from tenants.tables import BrandDivision, DealerGroup, Region, Store

PASSWORD = "Passw0rd!"
_password_hash = hash_password(PASSWORD)
_counter = itertools.count(1)


@dataclass
class Tenant:
    """A group with two brand divisions and three stores (A and B in division 1, C in division 2)."""

    group_id: int
    division_ids: list[int]
    store_ids: list[int]
    users: dict[str, int] = field(default_factory=dict)  # "store_gm@A" / "hq_viewer" → user id
    usernames: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store_a(self) -> int:
        return self.store_ids[0]

    @property
    def store_b(self) -> int:
        return self.store_ids[1]

    @property
    def store_c(self) -> int:
        return self.store_ids[2]

    async def scope(self, who: str) -> Scope:
        scope = await scope_for_user(self.users[who])
        assert scope is not None
        return scope

    async def headers(self, who: str) -> dict[str, str]:
        """Bearer-token headers for one of the tenant's users."""
        if who not in self.tokens:
            self.tokens[who], _ = await issue_token(self.users[who], 1)
        return {"Authorization": f"Bearer {self.tokens[who]}"}


async def make_tenant() -> Tenant:
    n = next(_counter)
    tag = uuid.uuid4().hex[:8]
    group = DealerGroup(name=f"测试集团{n}-{tag}", code=f"G{tag}")
    await group.save()
    divisions = []
    for name in ("上汽大众", "一汽丰田"):
        division = BrandDivision(group=group.id, name=name, code=f"{name}-{tag}")
        await division.save()
        divisions.append(division.id)
    region = Region(group=group.id, name="华东")
    await region.save()
    stores = []
    for i, (label, division) in enumerate([("A", divisions[0]), ("B", divisions[0]), ("C", divisions[1])]):
        store = Store(group=group.id, brand_division=division, region=region.id, code=f"S{tag}{label}",
                      name=f"测试4S店{label}{n}")
        await store.save()
        stores.append(store.id)
    tenant = Tenant(group_id=group.id, division_ids=divisions, store_ids=stores)

    async def add(key: str, role: Role, **where) -> None:
        username = f"{key.replace('@', '_')}_{tag}"
        tenant.users[key] = await create_user(
            username=username, password=PASSWORD, password_hash=_password_hash,
            display_name=f"{role.title_zh}{key}", roles=[role], **where,
        )
        tenant.usernames[key] = username

    for role in sorted(GROUP_ROLES):
        await add(str(role), role, group_id=group.id)
    await add("brand_manager@div2", Role.BRAND_MANAGER, group_id=group.id, brand_division_id=divisions[1])
    for label, store_id in zip("ABC", stores):
        for role in sorted(STORE_ROLES):
            await add(f"{role}@{label}", role, store_id=store_id)
    return tenant
