"""Mobiles and ID numbers sealed at rest: existing clear values (profiles, identities, and their history and
correction rows) are encrypted with the current key and their keyed hashes filled in (`crm.privacy.sealing`); on PostgreSQL a CHECK then refuses any clear value written later."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal customers' mobiles and ID numbers"

_SEALED_ONLY = {
    "customer_identity": ("mobile", "id_number"),
    "customer": ("mobile", "phone2", "id_number"),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="customers", description=DESCRIPTION)

    async def seal_rows():
        from crm.customers.tables import Customer, CustomerChange, CustomerCorrection, CustomerIdentity
        from crm.privacy.sealing import reseal
        from piccolo_conf import DB

        for table in (CustomerIdentity, Customer, CustomerChange, CustomerCorrection):
            await reseal(table)
        if DB.engine_type == "postgres":
            for table, columns in _SEALED_ONLY.items():
                check = " AND ".join(f"({c} = '' OR {c} LIKE 'v1:%')" for c in columns)
                await DB.run_ddl(f"ALTER TABLE {table} ADD CONSTRAINT {table}_pii_sealed CHECK ({check})")

    manager.add_raw(seal_rows)
    return manager
