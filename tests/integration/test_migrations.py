"""Alembic revisions go up and down on empty SQLite and PostgreSQL and match the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from milieu_testing import make_app, postgres_url_or_skip, scratch_postgres_database

from survey_app.extensions import db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_app(request, tmp_path):
    if request.param == "sqlite":
        yield make_app(f"sqlite:///{tmp_path / 'empty.sqlite'}", tmp_path)
        return
    with scratch_postgres_database(postgres_url_or_skip()) as url:
        app = make_app(url, tmp_path)
        yield app
        with app.app_context():
            db.engine.dispose()


def table_names(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names())


def test_upgrade_to_head_then_downgrade_to_base(empty_app):
    with empty_app.app_context():
        upgrade()
        assert {"users", "interviews", "codings", "audit_events"} <= table_names(empty_app)
        downgrade(revision="base")
        db.engine.dispose()
    assert table_names(empty_app) <= {"alembic_version"}


def test_models_and_migrations_agree(empty_app):
    with empty_app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"autogenerate would change the schema: {diff}"
