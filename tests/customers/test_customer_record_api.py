"""`GET /api/v1/customers/{id}/record`: the customer's own row only, scoped like every read."""

from __future__ import annotations

from tests.support.customers import make_world

API = "/api/v1"


async def test_record_is_the_row_and_other_tenants_get_404(client, tenant, other_tenant):
    world = await make_world(tenant)
    url = f"{API}/customers/{world.a.customer_id}/record"
    own = await client.get(url, headers=await tenant.headers("callback_agent@A"))
    assert own.status_code == 200, own.text
    assert own.json()["id"] == world.a.customer_id
    assert "vehicles" not in own.json()
    assert (await client.get(url, headers=await tenant.headers("callback_agent@B"))).status_code == 404
    assert (await client.get(url, headers=await tenant.headers("brand_manager@div2"))).status_code == 404
    assert (await client.get(url, headers=await other_tenant.headers("group_admin"))).status_code == 404
    assert (await client.get(url, headers=await tenant.headers("hq_viewer"))).status_code == 200
