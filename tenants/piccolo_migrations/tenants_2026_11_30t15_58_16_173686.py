import re
import sqlite3

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete
from piccolo.columns.base import OnUpdate
from piccolo.columns.column_types import ForeignKey
from piccolo.columns.column_types import Serial
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table


class User(Table, tablename="app_user", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


ID = "2026-11-30T15:58:16:173686"
VERSION = "1.38.0"
DESCRIPTION = "usernames unique within a group, activation tokens, last sign-in"


# Usernames become unique per group. A platform user has no group: COALESCE keeps them unique among themselves.
_GROUP_USERNAME_INDEX = (
    'CREATE UNIQUE INDEX app_user_group_username ON app_user (COALESCE("group", 0), username)'
)


class _Manager(MigrationManager):
    """SQLite cannot drop a column's UNIQUE constraint: there the table is rebuilt instead (`_per_group_usernames`)."""

    async def _run_query(self, query):
        from piccolo.query.methods.alter import Alter

        from piccolo_conf import DB

        if DB.engine_type == "sqlite" and isinstance(query, Alter) and query._set_unique:
            return
        await super()._run_query(query)


async def _per_group_usernames():
    from piccolo_conf import DB

    if DB.engine_type == "sqlite":
        _rebuild_sqlite_user_table(DB.path)
    await DB.run_ddl(_GROUP_USERNAME_INDEX)


def _rebuild_sqlite_user_table(path: str) -> None:
    """SQLite's way to change a constraint: a copy of the table without it, every row copied, then swapped in.

    On a connection of its own with foreign keys off, so that dropping the old table neither cascades to the
    rows that name a user nor trips their checks; they name the copy once it carries the old name.
    """
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("PRAGMA foreign_keys = OFF")
        connection.execute("BEGIN IMMEDIATE")
        [create] = connection.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'app_user'").fetchone()
        indexes = [row[0] for row in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'app_user' AND sql IS NOT NULL"
        )]
        create = re.sub(r'("username" VARCHAR\(64\)[^,]*?) UNIQUE', r"\1", create, count=1)
        create = re.sub(r'^CREATE TABLE\s+"?app_user"?', "CREATE TABLE app_user_rebuilt", create)
        connection.execute(create)
        connection.execute("INSERT INTO app_user_rebuilt SELECT * FROM app_user")
        connection.execute("DROP TABLE app_user")
        connection.execute("ALTER TABLE app_user_rebuilt RENAME TO app_user")
        for index in indexes:
            connection.execute(index)
        if connection.execute("PRAGMA foreign_key_check").fetchall():
            raise RuntimeError("app_user rebuild left rows pointing nowhere")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()


async def forwards():
    manager = _Manager(
        migration_id=ID, app_name="tenants", description=DESCRIPTION
    )

    manager.add_table(
        class_name="ActivationToken",
        tablename="activation_token",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="ActivationToken",
        tablename="activation_token",
        column_name="user",
        db_column_name="user",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            "references": User,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ActivationToken",
        tablename="activation_token",
        column_name="token_hash",
        db_column_name="token_hash",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 64,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": True,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="ActivationToken",
        tablename="activation_token",
        column_name="expires_at",
        db_column_name="expires_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
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

    manager.add_column(
        table_class_name="ActivationToken",
        tablename="activation_token",
        column_name="used_at",
        db_column_name="used_at",
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
        table_class_name="ActivationToken",
        tablename="activation_token",
        column_name="created_at",
        db_column_name="created_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": TimestamptzNow(),
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

    manager.add_column(
        table_class_name="User",
        tablename="app_user",
        column_name="last_sign_in_at",
        db_column_name="last_sign_in_at",
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

    manager.alter_column(
        table_class_name="User",
        tablename="app_user",
        column_name="username",
        db_column_name="username",
        params={"unique": False},
        old_params={"unique": True},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.add_raw(_per_group_usernames)

    return manager
