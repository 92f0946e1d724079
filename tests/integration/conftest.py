"""Fixtures for fieldwork: instruments loaded, organisations, interviews owned by someone."""

from datetime import date

import pytest
import sqlalchemy as sa

from survey_app.demo.loader import instruments_dir
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import InstrumentVersion, User


@pytest.fixture
def instruments(app):
    """Load the two shipped instruments; return {key: version id}."""
    with app.app_context():
        ids = {}
        for name in ("sme_manager.yaml", "relay_actor.yaml"):
            version, _ = ops.load_instrument_file(instruments_dir() / name)
            ids[version.instrument_key] = version.id
        db.session.commit()
        return ids


@pytest.fixture
def organisation(app):
    """Factory: organisation(kind="sme", name=...) -> id."""

    def factory(kind: str = "sme", name: str = "Optique Lez Instruments") -> int:
        with app.app_context():
            org = ops.create_organisation(None, kind=kind, name=name)
            db.session.commit()
            return org.id

    return factory


@pytest.fixture
def interview(app, instruments, organisation):
    """Factory: interview(username, key="sme_manager", answers=None) -> interview id."""
    from survey_app.models import Organisation

    def factory(username: str, key: str = "sme_manager", answers: dict | None = None) -> int:
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            kind = "sme" if key == "sme_manager" else "relay"
            org = db.session.get(Organisation, organisation(kind, f"{kind} of {username}"))
            item = ops.create_interview(
                user, db.session.get(InstrumentVersion, instruments[key]), org, date(2026, 11, 2)
            )
            if answers:
                ops.save_answers(item, answers, item.version, user)
            db.session.commit()
            return item.id

    return factory


@pytest.fixture
def codebook(app):
    """Load the shipped codebook as the current version; return {code key: code id}."""
    from survey_app.codings.codebook_versions import codes_by_key, load_codebook_file

    with app.app_context():
        version, _ = load_codebook_file(instruments_dir() / "codebook.yaml")
        db.session.commit()
        return {key: code.id for key, code in codes_by_key(version).items()}


@pytest.fixture
def transcript(app, interview):
    """Factory: transcript(username, text=None) -> transcript version id (interview made too)."""
    from survey_app.models import Interview

    default = (
        "Enquêteur : Comment travaillez-vous avec la CCI ?\n"
        "Interviewé : On se voit tous les mois, la conseillère est à dix minutes.\n"
        "Enquêteur : Et la Région ?\n"
        "Interviewé : C'est la Région qui fixe le cap, tout le monde s'aligne.\n"
    )

    def factory(username: str, text: str | None = None, interview_id: int | None = None) -> int:
        item_id = interview_id or interview(username)
        with app.app_context():
            item = db.session.get(Interview, item_id)
            version = ops.save_transcript(item, text or default, item.fieldworker)
            db.session.commit()
            return version.id

    return factory
