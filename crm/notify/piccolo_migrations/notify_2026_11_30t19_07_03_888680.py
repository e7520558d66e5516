from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T19:07:03:888680"
VERSION = "1.38.0"
DESCRIPTION = "room for a sealed customer mobile in notification.address"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notify", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Notification",
        tablename="notification",
        column_name="address",
        db_column_name="address",
        params={"length": 120},
        old_params={"length": 40},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
