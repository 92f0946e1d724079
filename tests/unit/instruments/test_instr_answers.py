"""Answers: skip logic, required only when shown and final, types, consent gate."""

from pathlib import Path

import pytest

from survey_app.instruments.answers import (
    answers_long,
    clean_answers,
    consent_given,
    validate_answers,
    visible_questions,
)
from survey_app.instruments.definitions import DONT_KNOW, NOT_ASKED, REFUSED, load_instrument

MINI = load_instrument(Path(__file__).with_name("mini_instrument.yaml"))
CONSENT = {"consent_data": "yes", "consent_participation": "yes"}


def keys(questions):
    return [q.key for q in questions]


def codes(errors):
    return {(e.key, e.code) for e in errors}


def test_skip_logic_hides_and_shows():
    shown = keys(visible_questions(MINI, {**CONSENT, "exports": "no", "q1": "2"}))
    assert "share" not in shown and "modes" not in shown and "q1_why" not in shown
    assert {"exports", "q1", "score"} <= set(shown)
    answers = {**CONSENT, "exports": "yes", "modes": ["agent"], "q1": "4"}
    shown = keys(visible_questions(MINI, answers))
    assert {"share", "modes", "agent_where", "q1_why"} <= set(shown)


def test_hidden_answers_do_not_drive_later_logic():
    # modes is hidden when the firm does not export, so agent_where must be hidden too.
    answers = {**CONSENT, "exports": "no", "modes": ["agent"]}
    assert "agent_where" not in keys(visible_questions(MINI, answers))
    assert clean_answers(MINI, answers)["modes"] == NOT_ASKED


def test_dont_know_counts_as_no_answer_in_logic():
    assert "q1_why" not in keys(visible_questions(MINI, {**CONSENT, "q1": DONT_KNOW}))


def test_required_only_when_shown_and_final():
    answers = {**CONSENT, "exports": "no", "q1": "3"}
    assert validate_answers(MINI, answers, final=True) == []
    answers["exports"] = "yes"
    assert codes(validate_answers(MINI, answers, final=True)) == {("share", "required")}
    assert validate_answers(MINI, answers, final=False) == []


def test_draft_still_checks_values():
    errors = validate_answers(MINI, {**CONSENT, "exports": "yes", "share": "abc"}, final=False)
    assert codes(errors) == {("share", "type")}
    assert errors[0].message_fr == "Nombre entier attendu."


def test_constraint_with_its_message():
    errors = validate_answers(MINI, {**CONSENT, "exports": "yes", "share": "120"}, final=False)
    assert [(e.key, e.code, e.message_fr, e.message_en) for e in errors] == [
        ("share", "constraint", "Entre 0 et 100.", "Between 0 and 100.")
    ]
    assert validate_answers(MINI, {**CONSENT, "exports": "yes", "share": 100}, final=False) == []


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("exports", "maybe", "choice"),
        ("q1", "6", "choice"),
        ("modes", ["agent", "bus"], "choice"),
        ("modes", "agent agent", "choice"),
        ("score", "1,5x", "type"),
        ("score", "-1", "constraint"),
        ("since", "2024-13-01", "type"),
        ("since", DONT_KNOW, "missing_not_allowed"),
        ("share", True, "type"),
        ("nope", "1", "unknown"),
    ],
)
def test_bad_values(key, value, code):
    answers = {**CONSENT, "exports": "yes", key: value}
    assert (key, code) in codes(validate_answers(MINI, answers, final=False))


def test_not_asked_on_a_shown_question_is_no_answer():
    answers = {**CONSENT, "exports": "no", "q1": NOT_ASKED}
    assert codes(validate_answers(MINI, answers, final=True)) == {("q1", "required")}


def test_missing_kinds_satisfy_required_and_are_kept():
    answers = {**CONSENT, "exports": "yes", "share": REFUSED, "q1": DONT_KNOW}
    assert validate_answers(MINI, answers, final=True) == []
    cleaned = clean_answers(MINI, answers)
    assert cleaned["share"] == REFUSED and cleaned["q1"] == DONT_KNOW
    assert cleaned["q1_why"] == NOT_ASKED and cleaned["score"] is None


def test_clean_answers_types():
    answers = {
        **CONSENT,
        "exports": "yes",
        "share": " 40 ",
        "modes": "direct agent",
        "agent_where": "  Milan ",
        "q1": "5",
        "score": "2,5",
        "since": "2020-01-31",
    }
    cleaned = clean_answers(MINI, answers)
    assert cleaned["share"] == 40 and cleaned["score"] == 2.5
    assert cleaned["modes"] == ["direct", "agent"] and cleaned["agent_where"] == "Milan"
    assert cleaned["consent_data"] == "yes" and cleaned["consent_audio"] is None
    assert cleaned["q1_why"] is None  # shown (q1 = 5) but left empty


def test_answers_long_keeps_missing_kinds_apart():
    answers = {**CONSENT, "exports": "no", "q1": REFUSED, "score": 3}
    rows = {r["question_key"]: r for r in answers_long(MINI, answers)}
    assert len(rows) == len(MINI.questions)
    assert rows["share"] == {"question_key": "share", "value": None, "missing": NOT_ASKED}
    assert rows["q1"] == {"question_key": "q1", "value": None, "missing": REFUSED}
    assert rows["score"] == {"question_key": "score", "value": "3", "missing": None}
    assert rows["since"] == {"question_key": "since", "value": None, "missing": None}


def test_consent_gate():
    assert consent_given(CONSENT)
    assert consent_given(CONSENT, MINI)
    assert not consent_given({"consent_data": "yes"})
    assert not consent_given({"consent_data": "yes", "consent_participation": "no"}, MINI)
    assert consent_given({"consent_data": True, "consent_participation": True})


def test_nothing_saved_before_consent():
    errors = validate_answers(MINI, {"consent_data": "yes", "exports": "yes"}, final=False)
    assert ("consent_data", "consent") in codes(errors)
    assert validate_answers(MINI, {"consent_data": "yes"}, final=False) == []


def test_only_consent_is_shown_before_consent():
    consent_keys = ["consent_data", "consent_participation", "consent_audio"]
    assert keys(visible_questions(MINI, {})) == consent_keys
    assert keys(visible_questions(MINI, {"consent_data": "yes"})) == consent_keys
    assert len(visible_questions(MINI, CONSENT)) > len(consent_keys)


def test_refused_consent_ends_the_interview_without_required_errors():
    answers = {"consent_data": "yes", "consent_participation": "no"}
    assert validate_answers(MINI, answers, final=True) == []
    cleaned = clean_answers(MINI, answers)
    assert cleaned["exports"] == NOT_ASKED and cleaned["q1"] == NOT_ASKED


def test_audio_recording_is_optional():
    answers = {**CONSENT, "consent_audio": "no", "exports": "no", "q1": "1"}
    assert validate_answers(MINI, answers, final=True) == []
