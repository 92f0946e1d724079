"""Helpers shared by the test suites (importable thanks to pytest's pythonpath setting)."""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
IN_CI = bool(os.environ.get("CI"))


def postgres_url_or_skip() -> str:
    """Return a working PostgreSQL URL; outside CI a missing server skips, in CI it fails."""
    url = os.environ.get("MILIEU_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    from survey_app.assembly import normalise_database_url

    url = normalise_database_url(url)
    try:
        engine = sa.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except sa.exc.OperationalError as err:
        message = f"PostgreSQL at {url} is not reachable: {err.orig}"
        if IN_CI:
            pytest.fail(message + " (CI must run the PostgreSQL tests)")
        pytest.skip(message + " (skipped outside CI only)")
    return url


@contextlib.contextmanager
def scratch_postgres_database(url: str):
    """Create an empty database beside `url` for one test run, and drop it afterwards.

    Runs that happen at the same time (two developers' suites, a helper's) never share tables.
    """
    base = sa.engine.make_url(url)
    name = f"milieu_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(database_url: str, instance: Path, **overrides):
    from survey_app import create_app

    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "HUEY_IMMEDIATE": True,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }
    config.update(overrides)
    os.environ["MILIEU_INSTANCE_PATH"] = str(instance)
    try:
        return create_app(config)
    finally:
        del os.environ["MILIEU_INSTANCE_PATH"]


def upgrade(app) -> None:
    from flask_migrate import upgrade as alembic_upgrade

    from survey_app.extensions import db

    with app.app_context():
        alembic_upgrade()
        db.engine.dispose()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """Load a page and return the CSRF token of its first form."""
    page = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


CONSENT = {"consent_data": "yes", "consent_participation": "yes"}

#: every required answer of the SME guide, for a firm that exports
COMPLETE_SME = {
    **CONSENT,
    "role": "dirigeant",
    "firm_size": "10_49",
    "exports": "yes",
    "export_share": "40",
    "a4": "4",
    "a5": "4",
    "a6": "2",
    "a7": "3",
    "a8": "3",
    "a9": "2",
    "a11": "4",
    "a13": "3",
    "a14": "4",
    "a15": "4",
}
