"""SMS to customers: the mobile in `notification.address` sealed at rest (`crm.privacy.sealing`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T19:08:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal customers' mobiles on SMS notifications"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notify", description=DESCRIPTION)

    async def seal_rows():
        from crm.notify.tables import Notification
        from crm.privacy.sealing import reseal

        await reseal(Notification)

    manager.add_raw(seal_rows)
    return manager
