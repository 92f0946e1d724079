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


# KoboToolbox's CSV export: ";" separated, columns prefixed by the form builder's group
# names (group_xy12ab/...), its own _uuid / _submission_time / _index columns, and
# meta/rootUuid that stays the same when a submission is edited while _uuid changes.
KOBO_HEADER = ";".join(
    [
        "start",
        "end",
        "milieu_organisation",
        "group_cs4xk01/consent_data",
        "group_cs4xk01/consent_participation",
        "group_ct7yb22/role",
        "group_ct7yb22/firm_size",
        "group_ct7yb22/exports",
        "group_ct7yb22/export_share",
        *(f"group_ap9zc33/{k}" for k in ("a4", "a5", "a6", "a7", "a8", "a9")),
        "group_st1da44/a11",
        "group_st1da44/a13",
        "group_dy2eb55/a14",
        "group_dy2eb55/a15",
        "meta/instanceID",
        "meta/rootUuid",
        "_id",
        "_uuid",
        "_submission_time",
        "_validation_status",
        "_status",
        "__version__",
        "_index",
    ]
)


def kobo_row(org, uuid, root, share="40", index=1):
    return ";".join(
        [
            "2026-11-02T09:00:00.000+01:00",
            "2026-11-02T10:00:00.000+01:00",
            org,
            "yes",
            "yes",
            "dirigeant",
            "10_49",
            "yes",
            share,
            *"4 4 2 3 3 2 4 3 4 4".split(),
            f"uuid:{uuid}",
            f"uuid:{root}",
            str(100 + index),
            uuid,
            "2026-11-02T09:01:00",
            "",
            "submitted_via_web",
            "vKq8",
            str(index),
        ]
    )


@pytest.fixture
def kobo_setup(submissions_setup, organisation, app):
    from survey_app.models import Organisation

    other = organisation("sme", "Lez Optique")
    with app.app_context():
        return submissions_setup, db.session.get(Organisation, other).pseudonym


def import_kobo(runner, path, *rows):
    path.write_text("\n".join([KOBO_HEADER, *rows]) + "\n", encoding="utf-8")
    args = ["fieldwork", "import-submissions", str(path), "--instrument", "sme_manager"]
    return runner.invoke(cli, [*args, "--fieldworker", "ines"])


def shares(app):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Interview.instance_id, Answer.value, Interview.status)
            .join(Answer, Answer.interview_id == Interview.id)
            .where(Answer.question_key == "export_share")
            .order_by(Interview.id)
        ).all()
        return [tuple(r) for r in rows]


def test_kobo_export_imported_twice_gives_each_interview_once(app, runner, tmp_path, kobo_setup):
    org_a, org_b = kobo_setup
    path = tmp_path / "kobo.csv"
    week1 = [kobo_row(org_a, "a1", "a1", index=1), kobo_row(org_b, "b1", "b1", "25", index=2)]
    first = import_kobo(runner, path, *week1)
    assert first.exit_code == 0, first.output
    assert "2 new, 0 unchanged, 0 updated, 0 refused" in first.output
    again = import_kobo(runner, path, *week1)
    assert again.exit_code == 0, again.output
    assert "0 new, 2 unchanged, 0 updated, 0 refused" in again.output
    assert shares(app) == [("a1", "40", "submitted"), ("b1", "25", "submitted")]
    with app.app_context():
        orgs = db.session.scalars(sa.select(Interview.organisation_id).order_by(Interview.id)).all()
        assert len(set(orgs)) == 2  # each row filed under its own milieu_organisation

    # Week 2: a1 was edited in Kobo (new _uuid, same rootUuid), c1 is new.
    week2 = [
        kobo_row(org_a, "a2", "a1", share="55", index=1),
        kobo_row(org_b, "b1", "b1", "25", index=2),
        kobo_row(org_a, "c1", "c1", index=3),
    ]
    third = import_kobo(runner, path, *week2)
    assert third.exit_code == 0, third.output
    assert "1 new, 1 unchanged, 1 updated, 0 refused" in third.output
    assert shares(app) == [
        ("a1", "55", "submitted"),
        ("b1", "25", "submitted"),
        ("c1", "40", "submitted"),
    ]


def test_reimport_does_not_overwrite_a_reviewed_interview(app, runner, tmp_path, kobo_setup):
    org_a, _ = kobo_setup
    path = tmp_path / "kobo.csv"
    assert import_kobo(runner, path, kobo_row(org_a, "a1", "a1")).exit_code == 0
    with app.app_context():
        db.session.execute(sa.update(Interview).values(status="approved"))
        db.session.commit()
    result = import_kobo(runner, path, kobo_row(org_a, "a2", "a1", share="70"))
    assert result.exit_code == 0, result.output
    assert "0 new, 0 unchanged, 0 updated, 1 refused" in result.output
    assert "row 2: submission a1 changed but interview" in result.output
    assert shares(app) == [("a1", "40", "approved")]


def test_exported_xlsform_lists_the_organisations_of_its_kind(app, runner, tmp_path, kobo_setup):
    org_a, org_b = kobo_setup
    out = tmp_path / "sme.xlsx"
    args = ["instruments", "export-xlsform", "sme_manager", "--out", str(out), "--organisations"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "organisations.csv (2 organisations)" in result.output
    lines = (tmp_path / "organisations.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["name,label", *sorted(f"{p},{p}" for p in (org_a, org_b))]
    relay = runner.invoke(cli, [*args[:2], "relay_actor", "--out", str(out), "--organisations"])
    assert relay.exit_code == 1 and "no organisation of this kind" in relay.output
