"""Back up and restore the database: SQLite through its online backup API, PostgreSQL through
pg_dump/pg_restore (custom format). Both are safe while the app runs."""

import shutil
import sqlite3
import subprocess
from pathlib import Path

import sqlalchemy as sa


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


def backup(database_url: str, target: Path) -> Path:
    url = sa.engine.make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(url.database) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target
    _run("pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq_url(url))
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's contents with the backup's."""
    if not source.is_file():
        raise BackupError(f"There is no backup at {source}.")
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(source) as backup_copy, sqlite3.connect(url.database) as live:
            backup_copy.backup(live)
        return
    _run("pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={_libpq_url(url)}", str(source))


def _libpq_url(url: sa.engine.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _run(program: str, *args: str) -> None:
    if shutil.which(program) is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client).")
    result = subprocess.run([program, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()[:2000]}")
