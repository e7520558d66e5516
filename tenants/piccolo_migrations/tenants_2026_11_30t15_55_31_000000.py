"""The audit log is append-only: the database refuses to update or delete its entries."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T15:55:31:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_entry append-only triggers"

_POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'audit_entry is append-only';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
    """,
]
_SQLITE = [
    """
    CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END
    """,
    """
    CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry
    BEGIN SELECT RAISE(ABORT, 'audit_entry is append-only'); END
    """,
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def create_triggers():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        for statement in _POSTGRES if isinstance(DB, PostgresEngine) else _SQLITE:
            await DB.run_ddl(statement)

    manager.add_raw(create_triggers)
    return manager
