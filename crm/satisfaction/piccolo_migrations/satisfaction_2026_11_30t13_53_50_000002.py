"""One mystery-shopper audit per store and date (raw SQL runs before table creation, hence its own migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T13:53:50:000002"
VERSION = "1.38.0"
DESCRIPTION = "mystery audit uniqueness"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="satisfaction", description=DESCRIPTION)

    async def create_index():
        from piccolo_conf import DB

        await DB.run_ddl("CREATE UNIQUE INDEX mystery_audit_store_day ON mystery_audit (store, audited_on)")

    async def drop_index():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS mystery_audit_store_day")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
