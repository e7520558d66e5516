"""An import job may belong to the group without a store (the satisfaction imports, people imported by HQ).

SQLite cannot drop a column's NOT NULL, nor drop an indexed or foreign-key column, so there the table is
rebuilt from its own definition with the store column nullable, its rows copied and its indexes made again
(raw step; the alteration itself is skipped on SQLite and kept in the migration's record).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-30T21:39:54:481873"
VERSION = "1.38.0"
DESCRIPTION = "an import job may belong to the group without a store"

_NOT_NULL_STORE = '"store" INTEGER NOT NULL REFERENCES'


class _Manager(MigrationManager):
    async def _run_alter_columns(self, backwards: bool = False):
        from crm.db import is_postgres

        if is_postgres():
            await super()._run_alter_columns(backwards=backwards)


async def forwards():
    manager = _Manager(migration_id=ID, app_name="imports", description=DESCRIPTION)

    async def rebuild_on_sqlite():
        from crm.db import is_postgres
        from piccolo_conf import DB

        if is_postgres():
            return
        [table] = await DB.run_ddl(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'import_job'")
        indexes = await DB.run_ddl(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'import_job' AND sql IS NOT NULL")
        definition = table["sql"]
        assert _NOT_NULL_STORE in definition, definition
        definition = definition.replace(_NOT_NULL_STORE, '"store" INTEGER REFERENCES').replace(
            'CREATE TABLE "import_job"', 'CREATE TABLE "import_job_rebuilt"', 1)
        await DB.run_ddl(definition)
        await DB.run_ddl('INSERT INTO "import_job_rebuilt" SELECT * FROM "import_job"')
        await DB.run_ddl('DROP TABLE "import_job"')
        await DB.run_ddl('ALTER TABLE "import_job_rebuilt" RENAME TO "import_job"')
        for index in indexes:
            await DB.run_ddl(index["sql"])

    manager.add_raw(rebuild_on_sqlite)
    manager.alter_column(
        table_class_name="ImportJob",
        tablename="import_job",
        column_name="store",
        db_column_name="store",
        params={"null": True},
        old_params={"null": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )
    return manager
