from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T06:40:45:010419"
VERSION = "1.38.0"
DESCRIPTION = "callback survey declined flag"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="callbacks", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Callback",
        tablename="callback",
        column_name="survey_declined",
        db_column_name="survey_declined",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
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
