"""Complainants' phones sealed at rest: existing clear values are encrypted with the current key and their
keyed hashes filled in (`crm.privacy.sealing`); on PostgreSQL a CHECK then refuses any clear value written later."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T18:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "seal complainants' phones"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="complaints", description=DESCRIPTION)

    async def seal_rows():
        from crm.complaints.tables import Complaint
        from crm.privacy.sealing import reseal
        from piccolo_conf import DB

        await reseal(Complaint)
        if DB.engine_type == "postgres":
            await DB.run_ddl("ALTER TABLE complaint ADD CONSTRAINT complaint_pii_sealed "
                             "CHECK (complainant_phone = '' OR complainant_phone LIKE 'v1:%')")

    manager.add_raw(seal_rows)
    return manager
