"""`milieu instruments load` and `milieu fieldwork import-submissions`."""

import shutil

import pytest
import sqlalchemy as sa

from survey_app.cli import cli
from survey_app.demo.loader import instruments_dir
from survey_app.extensions import db
from survey_app.models import Answer, InstrumentVersion, Interview


def test_load_is_idempotent_and_refuses_changed_content_under_same_version(app, runner, tmp_path):
    source = tmp_path / "codebook.yaml"
    shutil.copy(instruments_dir() / "codebook.yaml", source)
    guide = tmp_path / "sme_manager.yaml"
    shutil.copy(instruments_dir() / "sme_manager.yaml", guide)
    first = runner.invoke(cli, ["instruments", "load", str(guide)])
    assert first.exit_code == 0, first.output
    assert "loaded" in first.output
    again = runner.invoke(cli, ["instruments", "load", str(guide)])
    assert again.exit_code == 0 and "unchanged" in again.output
    guide.write_text(
        guide.read_text(encoding="utf-8").replace("Racontez-moi", "Dites-moi"), encoding="utf-8"
    )
    changed = runner.invoke(cli, ["instruments", "load", str(guide)])
    assert changed.exit_code == 1
    assert "immutable" in changed.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(InstrumentVersion.id))) == 1


def test_load_refuses_an_invalid_instrument_naming_the_question(app, runner, tmp_path):
    guide = tmp_path / "broken.yaml"
    text = (instruments_dir() / "sme_manager.yaml").read_text(encoding="utf-8")
    guide.write_text(
        text.replace("relevant: exports = 'yes'", "relevant: a99 = 'yes'", 1), encoding="utf-8"
    )
    result = runner.invoke(cli, ["instruments", "load", str(guide)])
    assert result.exit_code == 1
    assert "a99" in result.output and "sections[" in result.output


@pytest.fixture
def submissions_setup(app, runner, instruments, organisation, create_user):
    create_user("ines")
    org = organisation("sme", "Rhône Robotique")
    with app.app_context():
        from survey_app.models import Organisation

        return db.session.get(Organisation, org).pseudonym


HEADER = (
    "SubmissionDate,consentement-consent_data,consentement-consent_participation,"
    "contexte-role,contexte-firm_size,contexte-exports,contexte-export_share,"
    "appui-a4,appui-a5,appui-a6,appui-a7,appui-a8,appui-a9,strategie-a11,strategie-a13,"
    "dynamique-a14,dynamique-a15,meta-instanceID,_organisation\n"
)


def row(org, share="40", instance="uuid:1", exports="yes"):
    return (
        f"2026-11-02T10:00:00.000Z,yes,yes,dirigeant,10_49,{exports},{share},"
        f"4,4,2,3,3,2,4,3,4,4,{instance},{org}\n"
    )


def test_import_submissions_creates_submitted_interviews(app, runner, tmp_path, submissions_setup):
    csv = tmp_path / "odk.csv"
    csv.write_text(
        HEADER + row(submissions_setup) + row(submissions_setup, "", "uuid:2", "no"),
        encoding="utf-8",
    )
    result = runner.invoke(
        cli,
        [
            "fieldwork",
            "import-submissions",
            str(csv),
            "--instrument",
            "sme_manager",
            "--fieldworker",
            "ines",
        ],
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        interviews = db.session.scalars(sa.select(Interview)).all()
        assert [i.status for i in interviews] == ["submitted", "submitted"]
        share = db.session.scalars(
            sa.select(Answer)
            .where(Answer.question_key == "export_share")
            .order_by(Answer.interview_id)
        ).all()
        assert [(a.value, a.missing) for a in share] == [("40", None), (None, "not_asked")]


def test_one_bad_value_imports_nothing_and_names_row_and_column(
    app, runner, tmp_path, submissions_setup
):
    csv = tmp_path / "odk.csv"
    csv.write_text(
        HEADER + row(submissions_setup) + row(submissions_setup, "140", "uuid:2"), encoding="utf-8"
    )
    result = runner.invoke(
        cli,
        [
            "fieldwork",
            "import-submissions",
            str(csv),
            "--instrument",
            "sme_manager",
            "--fieldworker",
            "ines",
        ],
    )
    assert result.exit_code == 1
    assert "row 3" in result.output and "export_share" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 0


def test_unknown_organisation_imports_nothing(app, runner, tmp_path, submissions_setup):
    csv = tmp_path / "odk.csv"
    csv.write_text(
        HEADER + row(submissions_setup) + row("PME_999", instance="uuid:2"), encoding="utf-8"
    )
    result = runner.invoke(
        cli,
        [
            "fieldwork",
            "import-submissions",
            str(csv),
            "--instrument",
            "sme_manager",
            "--fieldworker",
            "ines",
        ],
    )
    assert result.exit_code == 1 and "PME_999" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 0
