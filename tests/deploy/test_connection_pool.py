"""The pool hands connections back without asyncpg's reset query: nothing a request did may reach the next one."""

from __future__ import annotations

from crm.customers.tables import Customer
from tests.support import builders


async def test_a_transaction_left_open_is_rolled_back_before_the_connection_is_reused(db_pool, tenant):
    customer_id = await builders.customer(tenant, name="张三")
    pool = db_pool.pool
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("UPDATE customer SET name = '未提交' WHERE id = $1", customer_id)
        assert connection.is_in_transaction()
    for _ in range(pool.get_size()):  # whichever connection comes next: none is in a transaction
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
    assert (await Customer.select(Customer.name).where(Customer.id == customer_id).first())["name"] == "张三"


async def test_the_product_leaves_no_session_setting_behind(db_pool, tenant, client):
    """The product sets nothing per session (the reason the reset query is skipped): after real requests the
    pooled connections still have the server's defaults (asyncpg's own type introspection sets `jit` and puts it
    back: set in the session, but to the default value)."""
    async def session_settings() -> set[tuple[str, str]]:
        found = set()
        connections = [await db_pool.pool.acquire() for _ in range(db_pool.pool.get_size())]
        try:
            for connection in connections:
                rows = await connection.fetch("""SELECT name, setting FROM pg_settings
                                                 WHERE source = 'session' AND setting IS DISTINCT FROM reset_val""")
                found |= {(row["name"], row["setting"]) for row in rows}
        finally:
            for connection in connections:
                await db_pool.pool.release(connection)
        return found

    before = await session_settings()
    await builders.customer(tenant, name="李四")
    for who, path in (("store_gm@A", "/api/v1/me"), ("store_gm@A", "/api/v1/customers"),
                      ("store_cr_manager@A", "/api/v1/complaints"), ("hq_viewer", "/api/v1/dashboards/stores")):
        assert (await client.get(path, headers=await tenant.headers(who))).status_code == 200, path
    assert await session_settings() == before == set()
