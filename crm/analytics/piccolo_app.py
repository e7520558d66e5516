import os

from piccolo.conf.apps import AppConfig, table_finder

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="analytics",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "piccolo_migrations"),
    table_classes=table_finder(modules=["crm.analytics.tables"], exclude_imported=True),
    migration_dependencies=[
        "tenants.piccolo_app",
        "crm.customers.piccolo_app",
        "crm.callbacks.piccolo_app",
        "crm.complaints.piccolo_app",
        "crm.major.piccolo_app",
    ],
    commands=[],
)
