"""Complaints already in handling when the handling deadline arrived: where it counts from, so their
next step starts it (Piccolo runs raw steps before column changes, hence a migration of its own)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "backfill complaint.handle_from"

_BACKFILL = (
    "UPDATE complaint SET handle_from = CASE WHEN state = 'reopened' THEN updated_at "
    "ELSE COALESCE(accepted_at, routed_at) END "
    "WHERE handle_from IS NULL AND state IN ('accepted', 'assigned', 'analysed', 'reopened')"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def backfill():
        from piccolo_conf import DB

        await DB.run_ddl(_BACKFILL)

    manager.add_raw(backfill)
    return manager
