"""One settings row per group (store NULL) and per store."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T05:42:32:000002"
VERSION = "1.38.0"
DESCRIPTION = "calendar setting uniqueness"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calendar", description=DESCRIPTION)

    async def create_indexes():
        from piccolo_conf import DB

        await DB.run_ddl(
            'CREATE UNIQUE INDEX calendar_setting_group_once ON calendar_setting ("group") WHERE store IS NULL'
        )
        await DB.run_ddl('CREATE UNIQUE INDEX calendar_setting_store_once ON calendar_setting (store)')

    async def drop_indexes():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS calendar_setting_group_once")
        await DB.run_ddl("DROP INDEX IF EXISTS calendar_setting_store_once")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
