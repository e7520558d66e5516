"""Appeals in order: an appeal the department head already forwarded now waits in its own state
(`appeal_forwarded`), where only the GM rules. Complaints under such an appeal move there."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T13:06:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "forwarded appeals wait in state appeal_forwarded"

_FORWARDED = (
    "UPDATE complaint SET state = 'appeal_forwarded' WHERE state = 'appealed' AND EXISTS ("
    "SELECT 1 FROM complaint_appeal a WHERE a.complaint = complaint.id AND a.status = 'forwarded')"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def move_forwarded():
        from piccolo_conf import DB

        await DB.run_ddl(_FORWARDED)

    manager.add_raw(move_forwarded)
    return manager
