"""Indexes Piccolo cannot declare: uniqueness of a notification per key+recipient+channel, the inbox, the retry sweep."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T05:42:32:000001"
VERSION = "1.38.0"
DESCRIPTION = "notification indexes"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notify", description=DESCRIPTION)

    async def create_indexes():
        from piccolo_conf import DB

        await DB.run_ddl(
            "CREATE UNIQUE INDEX notification_once ON notification (idempotency_key, recipient, channel)"
        )
        await DB.run_ddl("CREATE INDEX notification_inbox ON notification (recipient, channel, created_at)")
        await DB.run_ddl(
            "CREATE INDEX notification_due ON notification (next_attempt_at) WHERE status IN ('pending', 'sending')"
        )
        await DB.run_ddl(
            "CREATE INDEX notification_failures ON notification (\"group\", failed_at) WHERE status = 'failed'"
        )
        await DB.run_ddl(
            "CREATE UNIQUE INDEX notify_channel_setting_once ON notify_channel_setting (\"group\", channel)"
        )

    async def drop_indexes():
        from piccolo_conf import DB

        for name in ("notification_once", "notification_inbox", "notification_due", "notification_failures",
                     "notify_channel_setting_once"):
            await DB.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
