"""A callback factor may be answered "not applicable": its score becomes nullable.

SQLite cannot change a column's NOT NULL, so there the column is rebuilt (raw steps run before the
altered columns; the alteration itself is skipped on SQLite and kept in the migration's record).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import SmallInt

ID = "2026-11-30T14:04:44:734998"
VERSION = "1.38.0"
DESCRIPTION = "a callback factor may be answered not applicable (no score)"


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False):
        from crm.db import is_postgres

        if is_postgres():
            await super()._run_alter_columns(backwards=backwards)


async def forwards():
    manager = _Manager(migration_id=ID, app_name="callbacks", description=DESCRIPTION)

    async def rebuild_on_sqlite():
        from crm.db import is_postgres
        from piccolo_conf import DB

        if is_postgres():
            return
        await DB.run_ddl("ALTER TABLE callback_score RENAME COLUMN score TO score_required")
        await DB.run_ddl("ALTER TABLE callback_score ADD COLUMN score SMALLINT NULL DEFAULT NULL")
        await DB.run_ddl("UPDATE callback_score SET score = score_required")
        await DB.run_ddl("ALTER TABLE callback_score DROP COLUMN score_required")

    manager.add_raw(rebuild_on_sqlite)
    manager.alter_column(
        table_class_name="CallbackScore",
        tablename="callback_score",
        column_name="score",
        db_column_name="score",
        params={"default": None, "null": True},
        old_params={"default": 0, "null": False},
        column_class=SmallInt,
        old_column_class=SmallInt,
        schema=None,
    )
    return manager
