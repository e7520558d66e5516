"""Rollup versions: one row per group and month (raw SQL runs before a migration's tables, hence its own file)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T16:22:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "analytics: unique rollup version per group and month"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def create():
        from piccolo_conf import DB

        await DB.run_ddl('CREATE UNIQUE INDEX analytics_version_once ON analytics_version ("group", month)')

    async def drop():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS analytics_version_once")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
