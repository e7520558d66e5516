"""Partial indexes for the sweeper, the promoter and cancel: they read only pending rows."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T05:42:32:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes on pending timers"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="timers", description=DESCRIPTION)

    async def create_indexes():
        from piccolo_conf import DB

        await DB.run_ddl("CREATE INDEX timer_pending_due ON timer (due_at) WHERE state = 'pending'")
        await DB.run_ddl(
            "CREATE INDEX timer_pending_subject ON timer (subject_type, subject_id) WHERE state = 'pending'"
        )

    async def drop_indexes():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS timer_pending_due")
        await DB.run_ddl("DROP INDEX IF EXISTS timer_pending_subject")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
