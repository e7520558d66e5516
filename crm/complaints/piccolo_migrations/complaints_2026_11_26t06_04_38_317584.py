"""The complaint timeline is append-only: the database refuses to change a row of it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-26T06:04:38:317584"
VERSION = "1.38.0"
DESCRIPTION = "complaint_event append-only trigger"

_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION complaint_event_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'complaint_event is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER complaint_event_no_update BEFORE UPDATE ON complaint_event
    FOR EACH ROW EXECUTE FUNCTION complaint_event_append_only()
    """,
]
_SQLITE = [
    """
    CREATE TRIGGER complaint_event_no_update BEFORE UPDATE ON complaint_event
    BEGIN SELECT RAISE(ABORT, 'complaint_event is append-only'); END
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def create_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        for statement in _POSTGRES if isinstance(DB, PostgresEngine) else _SQLITE:
            await DB.run_ddl(statement)

    async def drop_trigger():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        await DB.run_ddl("DROP TRIGGER IF EXISTS complaint_event_no_update" + (
            " ON complaint_event" if isinstance(DB, PostgresEngine) else ""
        ))

    manager.add_raw(create_trigger)
    manager.add_raw_backwards(drop_trigger)
    return manager
