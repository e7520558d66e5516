"""Backfill: the object (type, id) of the notifications written before `object_type` existed, read from their link.

The same link table as crm/notify/objects.py at the time of writing (copied: a migration must not change when
the application's code does). Links to a list (e.g. /corrections) name no object and are left blank.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:55:13:000001"
VERSION = "1.38.0"
DESCRIPTION = "notification: backfill object_type / object_id from the link"

LINK_OBJECTS = {
    "complaints": "complaint",
    "major": "major_complaint",
    "callbacks": "callback",
    "reports": "report",
    "customers": "customer",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notify", description=DESCRIPTION)

    async def backfill():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        for area, object_type in LINK_OBJECTS.items():
            if isinstance(DB, PostgresEngine):
                await DB.run_ddl(
                    f"UPDATE notification SET object_type = '{object_type}', "
                    f"object_id = CAST(substring(link from '^/{area}/([0-9]{{1,18}})') AS BIGINT) "
                    f"WHERE object_type = '' AND link ~ '^/{area}/[0-9]{{1,18}}([/?#]|$)'"
                )
                continue
            for row_id, object_id in await _sqlite_rows(DB, area):
                await DB.run_ddl(
                    f"UPDATE notification SET object_type = '{object_type}', object_id = {int(object_id)} "
                    f"WHERE id = {int(row_id)}"
                )

    manager.add_raw(backfill)
    return manager


async def _sqlite_rows(db, area: str) -> list[tuple[int, int]]:
    """(notification id, object id) of the rows linking to /<area>/<id>, parsed in Python (SQLite has no regex)."""
    import re

    pattern = re.compile(rf"^/{area}/([0-9]{{1,18}})(?:[/?#]|$)")
    rows = await db.run_ddl(f"SELECT id, link FROM notification WHERE object_type = '' AND link LIKE '/{area}/%'")
    found = []
    for row in rows:
        match = pattern.match(row["link"])
        if match:
            found.append((row["id"], int(match.group(1))))
    return found
