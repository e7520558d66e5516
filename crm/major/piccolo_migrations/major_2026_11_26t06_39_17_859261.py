"""Uniqueness Piccolo cannot declare on every engine (SQLite has no ADD CONSTRAINT): one reason per
major complaint, one alert per level (what makes an escalation fire once), one recipient row per person."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:39:17:859261"
VERSION = "1.38.0"
DESCRIPTION = "major complaint unique indexes"

INDEXES = {
    "major_reason_once": "major_reason (major, reason)",
    "major_alert_once": "major_alert (major, level)",
    "major_alert_recipient_once": 'major_alert_recipient (alert, "user")',
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="major", description=DESCRIPTION)

    async def create_indexes():
        from piccolo_conf import DB

        for name, on in INDEXES.items():
            await DB.run_ddl(f"CREATE UNIQUE INDEX {name} ON {on}")

    async def drop_indexes():
        from piccolo_conf import DB

        for name in INDEXES:
            await DB.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
