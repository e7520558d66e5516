"""Overall satisfaction on five levels: the old yes/no answer becomes 满意 (satisfied) or 不满意 (dissatisfied)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T14:03:28:000002"
VERSION = "1.38.0"
DESCRIPTION = "callback satisfaction levels from the yes/no answer"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="callbacks", description=DESCRIPTION)

    async def copy_answers():
        from piccolo_conf import DB

        await DB.run_ddl(
            "UPDATE callback SET satisfaction = CASE WHEN satisfied THEN 'satisfied' ELSE 'dissatisfied' END "
            "WHERE satisfied IS NOT NULL AND satisfaction IS NULL"
        )

    async def copy_back():
        from piccolo_conf import DB

        await DB.run_ddl(
            "UPDATE callback SET satisfied = satisfaction IN ('very_satisfied', 'satisfied') "
            "WHERE satisfaction IS NOT NULL AND satisfaction <> 'neutral'"
        )

    manager.add_raw(copy_answers)
    manager.add_raw_backwards(copy_back)
    return manager
