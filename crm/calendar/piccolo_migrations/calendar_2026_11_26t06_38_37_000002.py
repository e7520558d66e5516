"""One override per group and day (raw SQL runs before table creation, hence its own migration)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:38:37:000002"
VERSION = "1.38.0"
DESCRIPTION = "calendar override uniqueness"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="calendar", description=DESCRIPTION)

    async def create_index():
        from piccolo_conf import DB

        await DB.run_ddl('CREATE UNIQUE INDEX calendar_override_group_day ON calendar_override ("group", day)')

    async def drop_index():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS calendar_override_group_day")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
