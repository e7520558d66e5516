"""Notifications to customers: `recipient` becomes nullable, and one customer message per key and channel.

SQLite cannot drop a NOT NULL constraint, so there the table is rebuilt from its own
stored definition (SQLite's documented way to alter a table), indexes included.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:41:43:000001"
VERSION = "1.38.0"
DESCRIPTION = "nullable notification recipient, customer messages once"

_NOT_NULL = '"recipient" INTEGER NOT NULL REFERENCES'


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notify", description=DESCRIPTION)

    async def recipient_nullable():
        from piccolo_conf import DB

        if DB.engine_type == "sqlite":
            await _rebuild_sqlite(DB)
        else:
            await DB.run_ddl("ALTER TABLE notification ALTER COLUMN recipient DROP NOT NULL")
        await DB.run_ddl(
            "CREATE UNIQUE INDEX notification_once_address ON notification (idempotency_key, channel) "
            "WHERE recipient IS NULL"
        )

    async def drop_index():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS notification_once_address")

    manager.add_raw(recipient_nullable)
    manager.add_raw_backwards(drop_index)
    return manager


async def _rebuild_sqlite(db) -> None:
    [table] = await db.run_ddl("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'notification'")
    if _NOT_NULL not in table["sql"]:
        return
    indexes = await db.run_ddl(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'notification' AND sql IS NOT NULL"
    )
    create = table["sql"].replace(_NOT_NULL, '"recipient" INTEGER REFERENCES', 1)
    create = create.replace('"notification"', '"notification_rebuilt"', 1)
    await db.run_ddl(create)
    await db.run_ddl('INSERT INTO "notification_rebuilt" SELECT * FROM "notification"')
    await db.run_ddl('DROP TABLE "notification"')
    await db.run_ddl('ALTER TABLE "notification_rebuilt" RENAME TO "notification"')
    for index in indexes:
        await db.run_ddl(index["sql"])
