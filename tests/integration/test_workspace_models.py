"""Model help: suggestions job, accept/reject, retrain, activation, next segment."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from integration.test_workspace import TEXT, Api, span_of

from survey_app.extensions import db
from survey_app.models import Coding, Job, ModelVersion

LONG = "\n".join(
    [
        "Enquêteur : Comment travaillez-vous avec la CCI ?",
        "Interviewé : On se voit tous les mois avec la CCI, c'est régulier.",
        "Enquêteur : Et la Région ?",
        "Interviewé : C'est la Région qui fixe le cap, elle pilote la stratégie régionale.",
        "Enquêteur : Comment vendez-vous à l'étranger ?",
        "Interviewé : On passe par un agent commercial à Milan et un distributeur en Belgique.",
        "Enquêteur : Les structures se coordonnent-elles ?",
        "Interviewé : La CCI et la Région se coordonnent pour les salons, elles se parlent.",
        "Enquêteur : Et les dispositifs ?",
        "Interviewé : Le chèque export, c'est un mois de paperasse, le dossier est trop lourd.",
        "Enquêteur : Des nouveautés ?",
        "Interviewé : Ils ont lancé un accélérateur export l'an dernier, c'est nouveau.",
        "Enquêteur : Et le club export ?",
        "Interviewé : Au club export j'apprends plus qu'en formation, le réseau des CCE aide.",
    ]
)


@pytest.fixture
def team(create_user):
    return {n: create_user(n, r) for n, r in (("ines", "fieldworker"), ("ana", "researcher"))}


@pytest.fixture
def api(client, auth, team):
    return Api(client, auth, "ana").login()


def job_of(app, kind: str) -> Job:
    with app.app_context():
        job = db.session.scalar(sa.select(Job).where(Job.kind == kind).order_by(Job.id.desc()))
        db.session.expunge(job)
        return job


def test_suggest_job_then_accept_and_reject_with_the_default_model(app, api, codebook, transcript):
    version_id = transcript("ines", TEXT)
    resp = api.post(f"/coding/api/transcripts/{version_id}/suggest")
    assert resp.status_code == 202
    job_id = resp.get_json()["job"]["id"]
    polled = api.client.get(f"/coding/api/jobs/{job_id}").get_json()["job"]
    assert polled["status"] == "done", polled
    assert polled["progress"] == 1.0 and polled["result"]["turns"] == 2  # the respondent's
    listed = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
    suggestions = listed["suggestions"]
    assert polled["result"]["suggestions"] == len(suggestions) >= 2
    assert all(s["source"] == "model" and 0 < s["confidence"] <= 1 for s in suggestions)
    assert "GOV.PILOT" in {s["code"] for s in suggestions}
    # a suggestion covers the turn's words, not its speaker label
    pilot = next(
        s
        for s in suggestions
        if s["code"] == "GOV.PILOT" and TEXT[s["start"] : s["end"]].startswith("C'est la Région")
    )
    with app.app_context():
        model = db.session.scalar(sa.select(ModelVersion))
        assert model.name == "default" and model.is_active and model.metrics["macro_f1"] > 0

    accepted = api.post(f"/coding/api/suggestions/{pilot['id']}/accept").get_json()["coding"]
    other = next(s for s in suggestions if s["id"] != pilot["id"])
    assert api.post(f"/coding/api/suggestions/{other['id']}/reject").status_code == 200
    assert [c["id"] for c in api.codings(version_id)] == [accepted["id"]]
    left = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
    assert len(left["suggestions"]) == len(suggestions) - 2

    # asking again does not repeat suggestions already made, accepted or rejected
    again = api.post(f"/coding/api/transcripts/{version_id}/suggest").get_json()["job"]["id"]
    assert (
        api.client.get(f"/coding/api/jobs/{again}").get_json()["job"]["result"]["suggestions"] == 0
    )

    page = api.client.get(f"/coding/transcripts/{version_id}").get_data(as_text=True)
    assert '"source": "model"' in page and 'id="ws-suggest"' in page


def test_suggestions_keep_to_the_researchers_precision_floor(app, api, codebook, transcript):
    first, second = transcript("ines", LONG), transcript("ines", LONG)

    def suggest(version_id, **body):
        resp = api.post(f"/coding/api/transcripts/{version_id}/suggest", body or None)
        assert resp.status_code == 202, resp.get_json()
        job = api.client.get(f"/coding/api/jobs/{resp.get_json()['job']['id']}").get_json()
        assert job["job"]["status"] == "done", job
        listed = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
        return job["job"], listed["suggestions"]

    job, default = suggest(first)
    assert job["result"]["floor"] == 0.6 and default
    # each suggestion shows the precision the model measured at its score, at least the floor
    assert all(s["precision"] is not None and s["precision"] >= 0.6 for s in default)
    job, strict = suggest(second, floor="0.99")
    assert job["result"]["floor"] == 0.99
    assert all(s["precision"] >= 0.99 for s in strict) and len(strict) < len(default)
    page = api.client.get(f"/coding/transcripts/{first}").get_data(as_text=True)
    assert 'id="ws-floor"' in page and "Précision minimale" in page

    for bad in ("1.5", "0", "abc", True):
        resp = api.post(f"/coding/api/transcripts/{first}/suggest", {"floor": bad})
        assert resp.status_code == 400, bad
        assert "seuil de précision" in resp.get_json()["message"]  # French by default


def code_long_transcript(api, version_id: int, codebook: dict, upto: int = 7) -> None:
    spans = {
        "On se voit tous les mois": "DYN.FREQ",
        "C'est la Région qui fixe le cap": "GOV.PILOT",
        "On passe par un agent commercial": "STR.MODE",
        "La CCI et la Région se coordonnent": "GOV.COORD",
        "Le chèque export, c'est un mois de paperasse": "GOV.ACCESS",
        "Ils ont lancé un accélérateur export": "DYN.INIT",
        "Au club export j'apprends": "STR.NETW",
    }
    for needle, code in list(spans.items())[:upto]:
        start, end = span_of(LONG, needle)
        assert api.create(version_id, start, end, codebook[code]).status_code == 201


def test_retrain_makes_an_inactive_version_with_metrics_then_activation(
    app, api, codebook, transcript
):
    version_id = transcript("ines", LONG)
    from milieu_testing import csrf_token

    token = csrf_token(api.client, "/coding/models")
    api.client.post("/coding/models/retrain", data={"csrf_token": token})
    job = job_of(app, "retrain")
    assert job.status == "failed" and "not enough coded turns" in job.error

    code_long_transcript(api, version_id, codebook)
    resp = api.client.post("/coding/models/retrain", data={"csrf_token": token})
    assert resp.status_code == 302 and "job=" in resp.headers["Location"]
    job = job_of(app, "retrain")
    assert job.status == "done", job.error
    with app.app_context():
        trained = db.session.get(ModelVersion, job.result["model_version"])
        assert trained.training_size == 7 and not trained.is_active
        assert set(trained.metrics) >= {"macro_f1", "per_code", "folds"}
        assert Path(trained.path) == Path(app.instance_path) / "models" / str(trained.id)
        assert (Path(trained.path) / "model.skops").is_file()
        trained_id = trained.id
        # model selection: the kept candidate and its per-family alpha with an interval
        metrics = trained.metrics
        kept = metrics["candidate"]
        assert kept == metrics["selection"]["chosen"] == job.result["candidate"]
        from coding.classifier import available_candidates

        assert [c["name"] for c in metrics["selection"]["candidates"]] == available_candidates()
        governance = metrics["per_family"]["GOVERNANCE"]
        assert len(governance["alpha_ci"]) == 2 and "codes" in metrics["precision"]
    page = api.client.get(f"/coding/models?job={job.id}").get_data(as_text=True)
    assert f'id="model-{trained_id}"' in page and "F1 macro" in page  # French by default
    from survey_app.workspace.views import CANDIDATE_LABELS

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        kept_label = str(CANDIDATE_LABELS[kept])
    assert "Modèle retenu" in page and 'id="model-selection"' in page
    row = page[page.index(f'id="model-{trained_id}"') :].split("</tr>")[0]
    assert kept_label in row and "Alpha gouvernance" in page

    api.post(f"/coding/api/transcripts/{version_id}/suggest")
    assert job_of(app, "suggest").params["model_version_id"] != trained_id  # not active yet

    api.client.post(f"/coding/models/{trained_id}/activate", data={"csrf_token": token})
    with app.app_context():
        active = db.session.scalars(sa.select(ModelVersion).where(ModelVersion.is_active)).all()
        assert [m.id for m in active] == [trained_id]
    api.post(f"/coding/api/transcripts/{version_id}/suggest")
    job = job_of(app, "suggest")
    assert job.params["model_version_id"] == trained_id and job.status == "done", job.error
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Coding.id)).where(Coding.model_version_id == trained_id)
            )
            == job.result["suggestions"]
        )


def test_next_segment_walks_to_an_uncoded_respondent_turn(app, api, codebook, transcript):
    version_id = transcript("ines", LONG)
    code_long_transcript(api, version_id, codebook, upto=5)
    from milieu_testing import csrf_token

    token = csrf_token(api.client, "/coding/next")
    started = api.client.post("/coding/next", data={"csrf_token": token})
    assert started.status_code == 302
    job = job_of(app, "next")
    assert job.status == "done", job.error
    page = api.client.get(started.headers["Location"])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # the two respondent turns left uncoded, not the interviewer's questions
    assert "accélérateur" in text and "club export" in text
    assert "paperasse" not in text and "Des nouveautés ?" not in text
    jump = api.client.post("/coding/next", data={"csrf_token": token, "go": "1"})
    jump = api.client.get(jump.headers["Location"])
    assert jump.status_code == 302
    assert f"/coding/transcripts/{version_id}?focus=" in jump.headers["Location"]


def test_suggestions_follow_codebook_revisions(app, api, codebook, transcript, team):
    """The shipped model knows codebook 1.0.0; its codes map onto the current version."""
    from survey_app.models import CodebookVersion, User
    from survey_app.workspace import codebook_changes as changes

    version_id = transcript("ines", LONG)
    with app.app_context():
        ana = db.session.get(User, team["ana"])
        for kind, payload in (
            ("rename", {"code": "GOV.PILOT", "new_key": "GOV.LEAD"}),
            ("retire", {"code": "STR.MODE"}),
        ):
            changes.apply(changes.propose(kind, payload, "test", ana), ana)
        db.session.commit()
    job = api.post(f"/coding/api/transcripts/{version_id}/suggest").get_json()["job"]
    assert api.client.get(f"/coding/api/jobs/{job['id']}").get_json()["job"]["status"] == "done"
    suggestions = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
    keys = {s["code"] for s in suggestions["suggestions"]}
    assert "GOV.LEAD" in keys and not keys & {"GOV.PILOT", "STR.MODE"}
    with app.app_context():
        current = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        rows = db.session.scalars(sa.select(Coding).where(Coding.source == "model")).all()
        assert {r.code.codebook_version_id for r in rows} == {current.id}


def test_training_rows_leave_out_open_blind_rounds(app, api, codebook, transcript):
    from integration.test_workspace import open_round

    from survey_app.workspace.training import training_rows

    version_id = transcript("ines", LONG)
    code_long_transcript(api, version_id, codebook)
    with app.app_context():
        texts, sets, _groups = training_rows()
    assert len(texts) == 7 and all(sets)
    open_round(app, version_id, ["ana"])
    start, end = span_of(LONG, "Des nouveautés ?")
    assert api.create(version_id, start, end, codebook["DYN.INIT"]).status_code == 201
    with app.app_context():
        texts, sets, _groups = training_rows()
        assert "Des nouveautés ?" not in texts and len(texts) == 7
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Coding.id)).where(Coding.round_id.isnot(None))
            )
            == 1
        )


def test_a_job_is_visible_to_its_creator_only(app, api, codebook, transcript, create_user):
    version_id = transcript("ines", TEXT)
    job_id = api.post(f"/coding/api/transcripts/{version_id}/suggest").get_json()["job"]["id"]
    assert api.client.get(f"/coding/api/jobs/{job_id}").status_code == 200
    create_user("bob", "researcher")
    api.login("bob")
    assert api.client.get(f"/coding/api/jobs/{job_id}").status_code == 404
    assert api.client.get("/coding/api/jobs/999999").status_code == 404
