"""Rollups: one row per store-day, and the triggers that queue every touched store-day.

Each source table gets a trigger that writes (store, anchor instant) into `analytics_dirty` for the
new and the old version of a row, in the writer's transaction, whatever code wrote it (services, DMS
webhook, imports, the demo seeder, a deletion). Rows that hang off a complaint or a callback (deadline
misses, the major-complaint mark, survey scores) queue their parent's store and anchor.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T13:17:26:000000"
VERSION = "1.38.0"
DESCRIPTION = "analytics: unique store-day, dirty store-day triggers"

# source table → (own store/anchor columns) or (parent table, the column pointing at it, parent's anchor)
_OWN = {"complaint": "received_at", "callback": "due_at", "service_visit": "left_at"}
_CHILD = {
    "complaint_deadline_miss": ("complaint", "complaint", "received_at"),
    "major_complaint": ("complaint", "complaint", "received_at"),
    "callback_score": ("callback", "callback", "due_at"),
}
_INDEXES = [
    "CREATE UNIQUE INDEX analytics_store_day_once ON analytics_store_day (store, day)",
    "CREATE INDEX analytics_store_day_resolution_store_day ON analytics_store_day_resolution (store, day)",
]


def _values(table: str, row: str) -> str:
    """A SELECT giving (store_id, at, source) for the NEW or OLD row of `table`."""
    if table in _OWN:
        return f"SELECT {row}.store, {row}.{_OWN[table]}, '{table}'"
    parent, column, anchor = _CHILD[table]
    return f"SELECT p.store, p.{anchor}, '{table}' FROM {parent} p WHERE p.id = {row}.{column}"


def _changed(table: str) -> str:
    keys = ("store", _OWN[table]) if table in _OWN else (_CHILD[table][1],)
    return " OR ".join(f"(OLD.{k} IS DISTINCT FROM NEW.{k})" for k in keys)


def _postgres() -> list[str]:
    statements = []
    for table in (*_OWN, *_CHILD):
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION analytics_touch_{table}() RETURNS trigger AS $$
            BEGIN
                IF TG_OP <> 'DELETE' THEN
                    INSERT INTO analytics_dirty (store_id, at, source) {_values(table, 'NEW')};
                END IF;
                IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND ({_changed(table)})) THEN
                    INSERT INTO analytics_dirty (store_id, at, source) {_values(table, 'OLD')};
                END IF;
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql
            """,
            f"""
            CREATE TRIGGER analytics_touch_{table} AFTER INSERT OR UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION analytics_touch_{table}()
            """,
        ]
    return statements


def _sqlite() -> list[str]:
    statements = []
    for table in (*_OWN, *_CHILD):
        changed = _changed(table).replace("IS DISTINCT FROM", "IS NOT")
        statements += [
            f"""CREATE TRIGGER analytics_touch_{table}_ins AFTER INSERT ON {table}
            BEGIN INSERT INTO analytics_dirty (store_id, at, source) {_values(table, 'NEW')}; END""",
            f"""CREATE TRIGGER analytics_touch_{table}_upd AFTER UPDATE ON {table}
            BEGIN
                INSERT INTO analytics_dirty (store_id, at, source) {_values(table, 'NEW')};
                INSERT INTO analytics_dirty (store_id, at, source)
                    SELECT * FROM ({_values(table, 'OLD')}) WHERE {changed};
            END""",
            f"""CREATE TRIGGER analytics_touch_{table}_del AFTER DELETE ON {table}
            BEGIN INSERT INTO analytics_dirty (store_id, at, source) {_values(table, 'OLD')}; END""",
        ]
    return statements


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="analytics", description=DESCRIPTION)

    async def create():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        for statement in _INDEXES + (_postgres() if isinstance(DB, PostgresEngine) else _sqlite()):
            await DB.run_ddl(statement)

    async def drop():
        from piccolo.engine.postgres import PostgresEngine

        from piccolo_conf import DB

        postgres = isinstance(DB, PostgresEngine)
        for table in (*_OWN, *_CHILD):
            if postgres:
                await DB.run_ddl(f"DROP TRIGGER IF EXISTS analytics_touch_{table} ON {table}")
                await DB.run_ddl(f"DROP FUNCTION IF EXISTS analytics_touch_{table}()")
            else:
                for op in ("ins", "upd", "del"):
                    await DB.run_ddl(f"DROP TRIGGER IF EXISTS analytics_touch_{table}_{op}")
        for index in ("analytics_store_day_once", "analytics_store_day_resolution_store_day"):
            await DB.run_ddl(f"DROP INDEX IF EXISTS {index}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
