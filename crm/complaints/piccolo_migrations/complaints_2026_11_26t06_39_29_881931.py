"""Handling deadline (handle_from, policy handle_working_days), the revisit callback link, and one
complaint per integration message: a partial unique index on (group, channel, external_ref)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-26T06:39:29:881931"
VERSION = "1.38.0"
DESCRIPTION = "complaint handling deadline, revisit callback, unique external_ref"

_UNIQUE_REF = (
    'CREATE UNIQUE INDEX complaint_external_ref_unique ON complaint ("group", channel, external_ref) '
    "WHERE external_ref <> ''"
)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="complaints", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="handle_from",
        db_column_name="handle_from",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
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

    manager.add_column(
        table_class_name="Complaint",
        tablename="complaint",
        column_name="revisit_callback_id",
        db_column_name="revisit_callback_id",
        column_class_name="Integer",
        column_class=Integer,
        params={
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

    manager.add_column(
        table_class_name="ComplaintPolicy",
        tablename="complaint_policy",
        column_name="handle_working_days",
        db_column_name="handle_working_days",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 1,
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

    async def create_index():
        from piccolo_conf import DB

        await DB.run_ddl(_UNIQUE_REF)

    async def drop_index():
        from piccolo_conf import DB

        await DB.run_ddl("DROP INDEX IF EXISTS complaint_external_ref_unique")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
