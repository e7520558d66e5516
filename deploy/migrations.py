"""Apply every committed Piccolo migration (idempotent)."""

from __future__ import annotations

import contextlib
import io
import sys

from piccolo.apps.migrations.commands.forwards import run_forwards


async def migrate(verbose: bool = False) -> None:
    """Piccolo prints a report per app; it is shown only when asked for."""
    with contextlib.redirect_stdout(sys.stdout if verbose else io.StringIO()):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}")
    await use_write_ahead_log()


async def use_write_ahead_log() -> None:
    """SQLite in WAL mode: readers no longer wait for a writer (and the reverse), so the embedded demo keeps
    answering while complaints are taken. The mode is stored in the database file: once is enough."""
    from crm.db import engine, is_postgres

    if not is_postgres():
        await engine().run_ddl("PRAGMA journal_mode=WAL")
