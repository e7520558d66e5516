"""Indexes for the work queue, the statistics and moving callbacks with their delivery or visit."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:17:14:000000"
VERSION = "1.38.0"
DESCRIPTION = "work-queue, statistics and source indexes on callback"

_INDEXES = {
    # The queue's "overdue" and "due now" sections, per store, in deadline order.
    "callback_due_deadline": "ON callback (store, deadline_at) WHERE state = 'due'",
    # "Upcoming", per store, in due order.
    "callback_scheduled_due": "ON callback (store, due_at) WHERE state = 'scheduled'",
    # Weekly and monthly statistics: a store's callbacks by due time.
    "callback_store_due": "ON callback (store, due_at)",
    # Editing or cancelling a delivery or visit finds its callbacks.
    "callback_source": "ON callback (source_type, source_id)",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="callbacks", description=DESCRIPTION)

    async def create_indexes():
        from piccolo_conf import DB

        for name, definition in _INDEXES.items():
            await DB.run_ddl(f"CREATE INDEX {name} {definition}")

    async def drop_indexes():
        from piccolo_conf import DB

        for name in _INDEXES:
            await DB.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
