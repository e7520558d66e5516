"""One manufacturer score per store, survey, period and metric: a re-import replaces, never duplicates."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T14:16:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "manufacturer score uniqueness"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="satisfaction", description=DESCRIPTION)

    async def create_index():
        from piccolo_conf import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX manufacturer_score_one ON manufacturer_score (store, survey, period, metric)"
        )

    async def drop_index():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS manufacturer_score_one")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
