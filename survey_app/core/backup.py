"""Database readiness, backup and restore (SQLite online backup API; pg_dump for PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from survey_app.extensions import db

#: tables whose presence marks a file as a Milieu database
MILIEU_TABLES = {"alembic_version", "users", "interviews", "codings", "audit_events"}


class BackupError(Exception):
    """A user-facing backup or restore problem."""


def check_database_ready() -> str | None:
    """Return why the database cannot serve (unreachable, not migrated), or None."""
    try:
        with db.engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
    except sa.exc.OperationalError as err:
        return f"cannot reach the database: {str(err.orig).strip().splitlines()[0]}"
    if "alembic_version" not in names:
        return "the database is empty: run `milieu db upgrade` first"
    return None


def _sqlite_path() -> Path | None:
    url = db.engine.url
    return Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None


def backup(target: Path) -> None:
    """Write a consistent copy of the live database to `target` (atomically)."""
    target = target.resolve()
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = _sqlite_path()
    if source is None:
        _pg_dump(target)
        return
    if not source.exists():
        raise BackupError(f"no database at {source}: run `milieu db upgrade` first")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".milieu-backup-", suffix=".sqlite")
    os.close(fd)
    try:
        with sqlite3.connect(source) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def check_milieu_sqlite(path: Path) -> None:
    """Refuse a file that is not a SQLite database holding Milieu's tables."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"{path} is not a SQLite database")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if not MILIEU_TABLES <= names:
                raise BackupError(f"{path} is a SQLite database but not a Milieu database")
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError(f"{path} is damaged (integrity check failed)")
        finally:
            conn.close()
    except sqlite3.DatabaseError as err:
        raise BackupError(f"{path} cannot be read as a database: {err}") from None


def restore(source: Path) -> Path | None:
    """Replace the live database by `source`; return the safety copy made first."""
    source = source.resolve()
    live = _sqlite_path()
    if live is None:
        _check_pg_dump_file(source)
        safety = _safety_path(".dump")
        _pg_dump(safety)  # the database as it was, should the restore be a mistake
        _pg_restore(source)
        return safety
    check_milieu_sqlite(source)
    safety = None
    if live.exists():
        safety = _safety_path(".sqlite")
        backup(safety)
    db.session.remove()
    db.engine.dispose()
    with sqlite3.connect(source) as src, sqlite3.connect(live) as dst:
        src.backup(dst)
    return safety


def _safety_path(suffix: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(current_app.instance_path) / "backups" / f"before-restore-{stamp}{suffix}"


def _pg_connection() -> tuple[str, dict[str, str]]:
    """The database URL without its password, and an environment carrying the password.

    A password on the command line is visible to every user of the machine (`ps`); libpq
    reads PGPASSWORD from the environment, which only the same user can read.
    """
    url = db.engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    bare = sa.engine.URL.create(
        url.drivername, url.username, None, url.host, url.port, url.database, url.query
    )
    return bare.render_as_string(hide_password=False), env


def _pg_dump(target: Path) -> None:
    exe = shutil.which("pg_dump")
    if exe is None:
        raise BackupError(
            "PostgreSQL backups use pg_dump, which is not installed here: install the "
            "PostgreSQL client (apt-get install postgresql-client) or back up with your "
            "hosting's tools"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    dsn, env = _pg_connection()
    tmp = target.with_name(f".{target.name}.part")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # owner only
    done = subprocess.run(
        [exe, "--format=custom", "--no-owner", f"--file={tmp}", f"--dbname={dsn}"],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip().splitlines()[-1]}")
    os.chmod(tmp, 0o600)
    os.replace(tmp, target)


def _check_pg_dump_file(source: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise BackupError(
            "PostgreSQL restores use pg_restore, which is not installed here: install the "
            "PostgreSQL client (apt-get install postgresql-client)"
        )
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    with open(source, "rb") as fh:
        if fh.read(5) != b"PGDMP":
            raise BackupError(f"{source} is not a pg_dump archive (custom format)")


def _pg_restore(source: Path) -> None:
    """Load a dump restore() has checked (_check_pg_dump_file) into the live database."""
    db.session.remove()
    db.engine.dispose()
    dsn, env = _pg_connection()
    done = subprocess.run(
        [
            shutil.which("pg_restore") or "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(source),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip().splitlines()[-1]}")
