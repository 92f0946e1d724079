"""Alembic revisions go up and down on empty SQLite and PostgreSQL and match the models."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from milieu_testing import make_app, postgres_url_or_skip, scratch_postgres_database

from survey_app.extensions import db
from survey_app.transcripts.search import include_name


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
            # the full-text tables are the migration's own (FTS5 has no model counterpart)
            opts = {"compare_type": True, "include_name": include_name}
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"autogenerate would change the schema: {diff}"


def test_fulltext_revision_indexes_transcripts_stored_before_it(empty_app, monkeypatch):
    from datetime import date

    from survey_app.auth.operations import create_user
    from survey_app.demo.loader import instruments_dir
    from survey_app.fieldwork import operations as ops
    from survey_app.transcripts.search import search

    with empty_app.app_context():
        upgrade(revision="5c1e9d2a7b40")
        # the code of that revision had no index to write to
        monkeypatch.setattr(ops, "index_turns", lambda version_id, turns: None)
        user = create_user("ines", "fieldworker", "correct horse")
        version, _ = ops.load_instrument_file(instruments_dir() / "sme_manager.yaml")
        org = ops.create_organisation(None, kind="sme", name="Optique Lez")
        interview = ops.create_interview(user, version, org, date(2026, 11, 2))
        text = "Interviewé : Nos exportations vers le Maroc ont doublé."
        stored = ops.save_transcript(interview, text, user)
        db.session.commit()
        monkeypatch.undo()
        upgrade()
        found = search(user, "exportation")
        db.session.commit()
        assert [(h.version_id, h.start) for h in found] == [(stored.id, text.index("exportations"))]
        db.session.remove()
        downgrade(revision="5c1e9d2a7b40")
        db.engine.dispose()
    assert not {n for n in table_names(empty_app) if n.startswith("transcript_fts")}
