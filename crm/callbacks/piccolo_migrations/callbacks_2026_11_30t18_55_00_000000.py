"""Corrections noted during callbacks ({field: [old, new]}): mobiles and ID numbers in them sealed at rest
(`crm.privacy.sealing`)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal mobiles and ID numbers in callbacks' corrections"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="callbacks", description=DESCRIPTION)

    async def seal_rows():
        from crm.privacy.sealing import reseal_callback_corrections

        await reseal_callback_corrections()

    manager.add_raw(seal_rows)
    return manager
