from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T14:03:37:006985"
VERSION = "1.38.0"
DESCRIPTION = "drop the yes/no callback satisfaction (copied to the levels)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="callbacks", description=DESCRIPTION
    )

    manager.drop_column(
        table_class_name="Callback",
        tablename="callback",
        column_name="satisfied",
        db_column_name="satisfied",
        schema=None,
    )

    return manager
