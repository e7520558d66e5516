from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T14:03:27:143706"
VERSION = "1.38.0"
DESCRIPTION = "callback satisfaction level column"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="callbacks", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Callback",
        tablename="callback",
        column_name="satisfaction",
        db_column_name="satisfaction",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
