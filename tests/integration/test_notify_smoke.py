from crm.notify.service import notify_roles, notify_users
from crm.notify.tables import Notification
from tenants.roles import Role


async def test_notify_users_records_once(tenant):
    user = tenant.users["store_gm@A"]
    kwargs = dict(group_id=tenant.group_id, user_ids=[user], kind="test", title_zh="标题", title_en="Title",
                  idempotency_key="k1")
    assert await notify_users(**kwargs) == 1
    assert await notify_users(**kwargs) == 0
    assert await Notification.count().where(Notification.recipient == user) == 1


async def test_notify_roles_brand_division(tenant):
    n = await notify_roles(group_id=tenant.group_id, roles=[Role.BRAND_MANAGER, Role.STORE_GM],
                           store_id=tenant.store_c, kind="t", title_zh="x", title_en="x", idempotency_key="k2")
    rows = await Notification.select(Notification.recipient).where(Notification.idempotency_key == "k2",
                                                                    Notification.group == tenant.group_id)
    assert {r["recipient"] for r in rows} == {
        tenant.users["store_gm@C"], tenant.users["brand_manager@div2"], tenant.users["brand_manager"]
    }
    assert n == 3
