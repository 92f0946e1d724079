"""Section forms built from the instrument at request time."""

from pathlib import Path

import lxml.html
import pytest
from flask import Flask
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField

from survey_app.instruments.answers import validate_answers
from survey_app.instruments.definitions import DONT_KNOW, NOT_ASKED, REFUSED, load_instrument
from survey_app.instruments.forms import (
    FIELD_TYPES,
    apply_answer_errors,
    build_section_form,
    form_answers,
    form_data,
)

HERE = Path(__file__).parent
MINI = load_instrument(HERE / "mini_instrument.yaml")
SME = load_instrument(HERE.parents[2] / "instruments" / "sme_manager.yaml")


@pytest.fixture(scope="module")
def app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False, TESTING=True)
    return app


def post(app, instrument, section, data, lang="fr"):
    with app.test_request_context(method="POST", data=data):
        form = build_section_form(instrument, section, lang)()
        assert form.validate(), form.errors
        return form, form_answers(form, instrument.section(section))


def test_every_question_type_is_registered():
    types = {
        "text",
        "long_text",
        "integer",
        "decimal",
        "date",
        "select_one",
        "select_multiple",
        "likert",
        "frequency",
        "consent",
    }
    assert set(FIELD_TYPES) == types


def test_field_kinds_and_french_labels(app):
    with app.test_request_context():
        form = build_section_form(MINI, "main")()
        assert isinstance(form.exports, RadioField)
        assert (
            isinstance(form.share, StringField) and form.share.render_kw["inputmode"] == "numeric"
        )
        assert isinstance(form.modes, SelectMultipleField)
        assert isinstance(form.q1_why, TextAreaField)
        assert form.q1.label.text == "Trop de structures"
        assert form.q1_why.description == "Un exemple"
        assert [list(c)[1] for c in form.q1.choices][-2:] == ["Ne sait pas", "Refus"]
        assert not hasattr(form, "since__missing")  # this question allows no missing answer
        html = form.q1()
        assert 'type="radio"' in html and 'data-question="q1"' in html
        assert 'data-relevant="q1 &gt;= 4"' in form.q1_why()


def test_english_labels(app):
    with app.test_request_context():
        form = build_section_form(MINI, "main", "en")()
        assert form.q1.label.text == "Too many bodies"
        assert [list(c)[1] for c in form.q1.choices][-2:] == ["Don't know", "Refused"]


def test_consent_checkboxes_are_separate(app):
    with app.test_request_context():
        form = build_section_form(SME, "consentement")()
        fields = [f for f in form if f.name != "csrf_token"]
        assert [f.name for f in fields] == [
            "consent_data",
            "consent_participation",
            "consent_audio",
        ]
        assert all(isinstance(f, BooleanField) for f in fields)
    _, answers = post(app, SME, "consentement", {"consent_data": "y", "consent_participation": "y"})
    assert answers == {"consent_data": "yes", "consent_participation": "yes", "consent_audio": None}


def test_post_gives_answers_with_missing_kinds(app):
    data = {
        "exports": "yes",
        "share": "40",
        "modes": ["agent", "direct"],
        "agent_where": "",
        "agent_where__missing": REFUSED,
        "q1": DONT_KNOW,
        "score": "2,5",
    }
    _, answers = post(app, MINI, "main", data)
    assert answers["modes"] == ["agent", "direct"]
    assert answers["agent_where"] == REFUSED and answers["q1"] == DONT_KNOW
    full = {"consent_data": "yes", "consent_participation": "yes", **answers}
    assert validate_answers(MINI, full, final=True) == []


def test_server_errors_shown_on_fields(app):
    with app.test_request_context(method="POST", data={"exports": "yes", "share": "140"}):
        form = build_section_form(MINI, "main")()
        form.validate()
        answers = {
            "consent_data": "yes",
            "consent_participation": "yes",
            **form_answers(form, MINI.section("main")),
        }
        apply_answer_errors(form, validate_answers(MINI, answers, final=True), "fr")
        assert form.share.errors == ["Entre 0 et 100."]
        assert form.q1.errors == ["Réponse obligatoire."]


def test_prefill_from_stored_answers(app):
    stored = {
        "exports": "yes",
        "share": 40,
        "modes": ["filiale"],
        "agent_where": DONT_KNOW,
        "q1": "5",
    }
    with app.test_request_context():
        form = build_section_form(MINI, "main")(data=form_data(MINI.section("main"), stored))
        assert form.share.data == "40" and form.modes.data == ["filiale"]
        assert form.agent_where__missing.data == DONT_KNOW and form.q1.data == "5"
        checked = lxml.html.fragment_fromstring(str(form.q1())).xpath("//input[@checked]")
        assert [i.get("value") for i in checked] == ["5"]


def test_questions_stored_as_not_asked_come_up_empty(app):
    # stored while exports was "no": skip logic revealing them must show empty boxes
    stored = {"exports": "no", "share": NOT_ASKED, "modes": NOT_ASKED, "agent_where": NOT_ASKED}
    with app.test_request_context():
        form = build_section_form(MINI, "main")(data=form_data(MINI.section("main"), stored))
        assert form.share.data is None and form.agent_where.data is None
        assert form.modes.data in (None, [])
        assert 'value="not_asked"' not in str(form.share()) + str(form.agent_where())
        assert form.agent_where__missing.data == ""


def test_forms_are_built_per_request_and_independent(app):
    with app.test_request_context():
        fr = build_section_form(SME, "appui", "fr")
        en = build_section_form(SME, "appui", "en")
        assert fr is not en
        assert fr().a5.label.text != en().a5.label.text
