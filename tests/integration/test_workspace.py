"""Coding workspace: permissions, JSON endpoints, the blind rule, codebook revisions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Code,
    CodebookProposal,
    CodebookVersion,
    Coding,
    CodingRound,
    TranscriptVersion,
    User,
)

TEXT = (
    "Enquêteur : Comment travaillez-vous avec la CCI ?\n"
    "Interviewé : On se voit tous les mois, la conseillère est à dix minutes.\n"
    "Enquêteur : Et la Région ?\n"
    "Interviewé : C'est la Région qui fixe le cap, tout le monde s'aligne.\n"
)


class Api:
    """A logged-in researcher's view of the JSON endpoints."""

    def __init__(self, client, auth, username: str):
        self.client, self.auth, self.username = client, auth, username
        self.logged_in = False

    def login(self, username: str | None = None) -> Api:
        if self.logged_in:
            self.auth.logout()
        self.logged_in = True
        self.username = username or self.username
        assert self.auth.login(self.username).status_code == 302
        from milieu_testing import csrf_token

        self.token = csrf_token(self.client, "/")
        return self

    def post(self, url: str, json: dict | None = None):
        return self.client.post(url, json=json or {}, headers={"X-CSRFToken": self.token})

    def create(self, version_id: int, start: int, end: int, code_id: int, **extra):
        body = {"start": start, "end": end, "code_id": code_id, **extra}
        return self.post(f"/coding/api/transcripts/{version_id}/codings", body)

    def codings(self, version_id: int) -> list[dict]:
        resp = self.client.get(f"/coding/api/transcripts/{version_id}/codings")
        assert resp.status_code == 200
        return resp.get_json()["codings"]


@pytest.fixture
def team(create_user):
    """Researchers ana and bob, admin ada, fieldworker ines; return their ids."""
    return {
        name: create_user(name, role)
        for name, role in (
            ("ines", "fieldworker"),
            ("ana", "researcher"),
            ("bob", "researcher"),
            ("ada", "admin"),
        )
    }


@pytest.fixture
def setup(app, team, codebook, transcript):
    """A coded-ready transcript version; return (version id, codebook ids)."""
    return transcript("ines", TEXT), codebook


@pytest.fixture
def api(client, auth):
    return Api(client, auth, "ana")


def span_of(text: str, needle: str) -> tuple[int, int]:
    start = text.index(needle)
    return start, start + len(needle)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def live_codings(app, version_id: int) -> list[Coding]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(Coding).where(
                    Coding.transcript_version_id == version_id, Coding.status == "active"
                )
            )
        )


# --- permissions -----------------------------------------------------------------------------


def test_fieldworker_gets_403_on_every_workspace_url(app, setup, api):
    version_id, codes = setup
    api.login("ines")
    gets = [
        "/coding/",
        f"/coding/transcripts/{version_id}",
        "/coding/codebook",
        "/coding/models",
        "/coding/next",
        "/coding/matrix",
        "/coding/matrix.csv",
        "/coding/saturation",
        f"/coding/api/transcripts/{version_id}/codings",
        f"/coding/api/transcripts/{version_id}/suggestions",
        "/coding/api/jobs/1",
    ]
    for url in gets:
        assert api.client.get(url).status_code == 403, url
    posts = [
        f"/coding/api/transcripts/{version_id}/codings",
        "/coding/api/codings/1/update",
        "/coding/api/codings/1/delete",
        f"/coding/api/transcripts/{version_id}/suggest",
        "/coding/api/suggestions/1/accept",
        "/coding/api/suggestions/1/reject",
        "/coding/codebook/proposals",
        "/coding/codebook/proposals/1/apply",
        "/coding/codebook/proposals/1/decline",
        "/coding/models/retrain",
        "/coding/models/1/activate",
        "/coding/next",
    ]
    for url in posts:
        assert (
            api.post(url, {"start": 0, "end": 5, "code_id": codes["GOV.PILOT"]}).status_code == 403
        ), url
    assert live_codings(app, version_id) == []


def test_anonymous_is_sent_to_login(client, setup):
    assert client.get("/coding/").status_code == 302


def test_home_lists_transcript_with_counts_and_filters(app, setup, api):
    version_id, codes = setup
    api.login()
    start, end = span_of(TEXT, "On se voit tous les mois")
    assert api.create(version_id, start, end, codes["DYN.FREQ"]).status_code == 201
    page = api.client.get("/coding/").get_data(as_text=True)
    assert f"/coding/transcripts/{version_id}" in page
    assert '<td class="own">1</td>' in page
    relay_only = api.client.get("/coding/?respondent_type=relay").get_data(as_text=True)
    assert f"/coding/transcripts/{version_id}" not in relay_only


# --- create, update, delete -------------------------------------------------------------------


def test_create_coding_saves_span_coder_and_audit(app, setup, api):
    version_id, codes = setup
    api.login()
    start, end = span_of(TEXT, "C'est la Région qui fixe le cap")
    resp = api.create(
        version_id, start, end, codes["GOV.PILOT"], valence=1, intensity=2, memo="cap"
    )
    assert resp.status_code == 201
    body = resp.get_json()["coding"]
    assert (body["start"], body["end"], body["code"], body["coder"]) == (
        start,
        end,
        "GOV.PILOT",
        "ana",
    )
    assert body["valence"] == 1 and body["intensity"] == 2 and body["memo"] == "cap"
    [row] = live_codings(app, version_id)
    assert row.segment_id is not None and row.source == "human"
    assert "coding.create" in audit_actions(app)
    assert [c["id"] for c in api.codings(version_id)] == [row.id]
    page = api.client.get(f"/coding/transcripts/{version_id}").get_data(as_text=True)
    assert '"coder": "ana"' in page and '"memo": "cap"' in page


BAD_BODIES = [
    {"start": -1, "end": 5},
    {"start": 10, "end": 10},
    {"start": 20, "end": 10},
    {"start": 0, "end": 10_000},
    {"start": "a", "end": 5},
    {"start": None, "end": 5},
    {"start": 0, "end": 5, "valence": 3},
    {"start": 0, "end": 5, "intensity": 7},
    {"start": 0, "end": 5, "code_id": 999_999},
    {"start": 0, "end": 5, "memo": ["not", "text"]},
    # a newline alone: a span with no text in it
    {"start": TEXT.index("\n"), "end": TEXT.index("\n") + 1},
]


def test_bad_input_is_refused_and_nothing_saved(app, setup, api):
    version_id, codes = setup
    api.login()
    for body in BAD_BODIES:
        payload = {"code_id": codes["GOV.PILOT"], **body}
        resp = api.post(f"/coding/api/transcripts/{version_id}/codings", payload)
        assert resp.status_code == 400, body
        assert resp.get_json()["ok"] is False, body
    assert live_codings(app, version_id) == []
    assert "coding.create" not in audit_actions(app)


def test_unknown_transcript_is_404(setup, api):
    _version_id, codes = setup
    api.login()
    assert api.create(999_999, 0, 5, codes["GOV.PILOT"]).status_code == 404
    assert api.client.get("/coding/api/transcripts/999999/codings").status_code == 404


def test_update_with_version_then_stale_update_refused(app, setup, api):
    version_id, codes = setup
    api.login()
    start, end = span_of(TEXT, "la conseillère est à dix minutes")
    coding = api.create(version_id, start, end, codes["GOV.PROX"]).get_json()["coding"]
    url = f"/coding/api/codings/{coding['id']}/update"
    ok = api.post(url, {"version": coding["version"], "intensity": 3, "memo": "proche"})
    assert ok.status_code == 200
    assert ok.get_json()["coding"]["intensity"] == 3
    stale = api.post(url, {"version": coding["version"], "intensity": 1})
    assert stale.status_code == 409
    [row] = live_codings(app, version_id)
    assert row.intensity == 3 and row.memo == "proche"
    bad_span = api.post(url, {"version": row.version, "end": 10_000})
    assert bad_span.status_code == 400
    assert "coding.update" in audit_actions(app)


def test_update_changes_code_but_not_to_a_retired_one(app, setup, api):
    version_id, codes = setup
    api.login()
    start, end = span_of(TEXT, "la conseillère est à dix minutes")
    coding = api.create(version_id, start, end, codes["GOV.PROX"]).get_json()["coding"]
    url = f"/coding/api/codings/{coding['id']}/update"
    with app.app_context():
        db.session.get(Code, codes["GOV.ACCESS"]).retired = True
        db.session.commit()
    assert api.post(url, {"version": 1, "code_id": codes["GOV.ACCESS"]}).status_code == 400
    resp = api.post(url, {"version": 1, "code_id": codes["GOV.COORD"]})
    assert resp.status_code == 200 and resp.get_json()["coding"]["code"] == "GOV.COORD"
    assert api.create(version_id, start, end, codes["GOV.ACCESS"]).status_code == 400


def test_delete_is_soft_and_audited_and_only_for_own(app, setup, api):
    version_id, codes = setup
    api.login()
    start, end = span_of(TEXT, "On se voit tous les mois")
    coding = api.create(version_id, start, end, codes["DYN.FREQ"]).get_json()["coding"]
    api.login("bob")
    assert api.post(f"/coding/api/codings/{coding['id']}/delete").status_code == 403
    assert api.post(f"/coding/api/codings/{coding['id']}/update", {"version": 1}).status_code == 403
    api.login("ana")
    assert api.post(f"/coding/api/codings/{coding['id']}/delete").status_code == 200
    assert api.codings(version_id) == []
    with app.app_context():
        assert db.session.get(Coding, coding["id"]).status == "deleted"
    assert "coding.delete" in audit_actions(app)


# --- the blind rule ---------------------------------------------------------------------------


def open_round(app, version_id: int, coders: list[str]) -> int:
    with app.app_context():
        users = [db.session.scalar(sa.select(User).where(User.username == name)) for name in coders]
        book = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        rnd = CodingRound(
            name="double",
            codebook_version_id=book.id,
            created_by_id=users[0].id,
            coders=users,
            transcript_versions=[db.session.get(TranscriptVersion, version_id)],
        )
        db.session.add(rnd)
        db.session.commit()
        return rnd.id


def add_suggestion(app, version_id: int, code_id: int, start: int, end: int) -> int:
    with app.app_context():
        row = Coding(
            transcript_version_id=version_id,
            start=start,
            end=end,
            code_id=code_id,
            source="model",
            status="suggested",
            confidence=0.8,
        )
        db.session.add(row)
        db.session.commit()
        return row.id


def test_blind_round_coder_sees_only_own_codings_everywhere(app, setup, api, create_user):
    version_id, codes = setup
    create_user("cleo", "researcher")
    open_round(app, version_id, ["ana", "bob"])
    a_span = span_of(TEXT, "On se voit tous les mois")
    b_span = span_of(TEXT, "C'est la Région qui fixe le cap")
    api.login("ana")
    ana = api.create(version_id, *a_span, codes["DYN.FREQ"], memo="ana-memo").get_json()["coding"]
    api.login("bob")
    bob = api.create(version_id, *b_span, codes["GOV.PILOT"], memo="bob-memo").get_json()["coding"]
    suggestion = add_suggestion(app, version_id, codes["GOV.PROX"], *a_span)

    api.login("ana")
    assert [c["id"] for c in api.codings(version_id)] == [ana["id"]]
    page = api.client.get(f"/coding/transcripts/{version_id}").get_data(as_text=True)
    assert "bob-memo" not in page and '"coder": "bob"' not in page
    assert "ana-memo" in page and '"coder": "ana"' in page
    listed = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
    assert listed["suggestions"] == [] and listed["blocked"] is True
    assert api.post(f"/coding/api/suggestions/{suggestion}/accept").status_code == 404
    assert api.post(f"/coding/api/transcripts/{version_id}/suggest").status_code == 409
    assert api.post(f"/coding/api/codings/{bob['id']}/update", {"version": 1}).status_code == 404
    assert api.post(f"/coding/api/codings/{bob['id']}/delete").status_code == 404
    matrix = api.client.get("/coding/matrix").get_data(as_text=True)
    assert 'data-col="DYN.FREQ">1<' in matrix and "GOV.PILOT" not in matrix
    families = api.client.get("/coding/matrix?level=family").get_data(as_text=True)
    assert 'data-col="DYNAMICS">1<' in families and "GOVERNANCE" not in families
    table = api.client.get("/coding/matrix.csv").get_data(as_text=True).splitlines()
    assert table[0].endswith(",DYN.FREQ") and table[1].endswith(",1") and len(table) == 2
    saturation = api.client.get("/coding/saturation").get_data(as_text=True)
    assert "DYN.FREQ" in saturation and "GOV.PILOT" not in saturation

    api.login("cleo")  # not in the round: sees both
    assert {c["id"] for c in api.codings(version_id)} == {ana["id"], bob["id"]}
    listed = api.client.get(f"/coding/api/transcripts/{version_id}/suggestions").get_json()
    assert [s["id"] for s in listed["suggestions"]] == [suggestion]


def test_accept_and_reject_suggestions(app, setup, api):
    version_id, codes = setup
    a_span = span_of(TEXT, "On se voit tous les mois")
    first = add_suggestion(app, version_id, codes["DYN.FREQ"], *a_span)
    second = add_suggestion(app, version_id, codes["GOV.PROX"], *a_span)
    api.login()
    accepted = api.post(f"/coding/api/suggestions/{first}/accept")
    assert accepted.status_code == 200
    coding = accepted.get_json()["coding"]
    assert coding["code"] == "DYN.FREQ" and coding["coder"] == "ana" and coding["source"] == "human"
    assert api.post(f"/coding/api/suggestions/{second}/reject").status_code == 200
    assert api.post(f"/coding/api/suggestions/{second}/accept").status_code == 404
    with app.app_context():
        assert db.session.get(Coding, first).status == "accepted"
        assert db.session.get(Coding, second).status == "rejected"
        human = db.session.get(Coding, coding["id"])
        assert human.suggestion_id == first and human.status == "active"
    assert [c["id"] for c in api.codings(version_id)] == [coding["id"]]
    actions = audit_actions(app)
    assert "suggestion.accept" in actions and "suggestion.reject" in actions


# --- codebook revisions -----------------------------------------------------------------------


def propose(api, **fields):
    from milieu_testing import csrf_token

    token = csrf_token(api.client, "/coding/codebook")
    return api.client.post("/coding/codebook/proposals", data={"csrf_token": token, **fields})


def decide(api, proposal_id: int, action: str = "apply"):
    from milieu_testing import csrf_token

    token = csrf_token(api.client, "/coding/codebook")
    return api.client.post(
        f"/coding/codebook/proposals/{proposal_id}/{action}", data={"csrf_token": token}
    )


def latest_proposal(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(CodebookProposal.id)))


def test_proposal_without_rationale_or_with_bad_key_is_refused(app, setup, api):
    api.login()
    assert propose(api, kind="retire", code="GOV.PPP", rationale="").status_code == 400
    bad = propose(
        api,
        kind="add",
        family="GOVERNANCE",
        key="STR.WRONG",
        label_fr="x",
        definition="y",
        rationale="because",
    )
    assert bad.status_code == 400
    assert latest_proposal(app) is None


def test_codebook_rename_merge_retire_carry_codings_over(app, setup, api):
    version_id, codes = setup
    api.login()
    freq = span_of(TEXT, "On se voit tous les mois")
    prox = span_of(TEXT, "la conseillère est à dix minutes")
    pilot = span_of(TEXT, "C'est la Région qui fixe le cap")
    c_freq = api.create(version_id, *freq, codes["DYN.FREQ"]).get_json()["coding"]
    c_prox = api.create(version_id, *prox, codes["GOV.PROX"]).get_json()["coding"]
    c_pilot = api.create(version_id, *pilot, codes["GOV.PILOT"]).get_json()["coding"]
    page = api.client.get("/coding/codebook").get_data(as_text=True)
    assert "GOV.FRAG" in page and "millefeuille" in page

    assert (
        propose(
            api,
            kind="rename",
            code="DYN.FREQ",
            key="DYN.RHYTHM",
            label_fr="Rythme",
            rationale="clearer",
        ).status_code
        == 302
    )
    rename_id = latest_proposal(app)
    assert decide(api, rename_id).status_code == 403  # researchers propose, admins apply
    api.login("ada")
    assert decide(api, rename_id).status_code == 302

    api.login("ana")
    propose(api, kind="merge", code="GOV.PROX", into="GOV.ACCESS", rationale="overlap")
    propose(api, kind="retire", code="GOV.PILOT", rationale="unused")
    propose(
        api,
        kind="add",
        family="OTHER",
        key="OTH.DIGIT",
        label_fr="Numérique",
        definition="Outils numériques",
        rationale="recurring",
    )
    api.login("ada")
    for pid in range(rename_id + 1, latest_proposal(app) + 1):
        assert decide(api, pid).status_code == 302

    with app.app_context():
        current = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        assert current.version == "1.4.0"
        assert current.rationale == "recurring"
        chain = []
        node = current
        while node is not None:
            chain.append(node.version)
            node = db.session.get(CodebookVersion, node.previous_id) if node.previous_id else None
        assert chain == ["1.4.0", "1.3.0", "1.2.0", "1.1.0", "1.0.0"]
        keys = {c.key: c for c in current.codes}
        assert keys["DYN.FREQ"].retired and keys["DYN.FREQ"].replaced_by_key == "DYN.RHYTHM"
        assert keys["GOV.PROX"].retired and keys["GOV.PILOT"].retired
        assert "OTH.DIGIT" in keys
        moved = {c.id: c for c in db.session.scalars(sa.select(Coding))}
        assert moved[c_freq["id"]].code.key == "DYN.RHYTHM"
        assert moved[c_prox["id"]].code.key == "GOV.ACCESS"
        assert moved[c_pilot["id"]].code.key == "GOV.PILOT"
        assert all(moved[i].code.codebook_version_id == current.id for i in moved)
        rhythm, digit = keys["DYN.RHYTHM"].id, keys["OTH.DIGIT"].id
        retired = keys["GOV.PILOT"].id
    actions = audit_actions(app)
    assert actions.count("codebook.apply") == 4 and actions.count("codebook.propose") == 4

    page = api.client.get("/coding/codebook").get_data(as_text=True)
    assert "version 1.4.0" in page and "DYN.RHYTHM" in page and "→ DYN.RHYTHM" in page

    api.login("ana")
    assert api.create(version_id, *pilot, retired).status_code == 400
    assert api.create(version_id, *pilot, digit).status_code == 201
    assert api.create(version_id, *freq, codes["DYN.INIT"]).status_code == 400  # old version
    assert api.create(version_id, *freq, rhythm).status_code == 201
    assert {c["code"] for c in api.codings(version_id)} == {
        "DYN.RHYTHM",
        "GOV.ACCESS",
        "GOV.PILOT",
        "OTH.DIGIT",
    }


def test_admin_declines_and_a_decided_proposal_stays_decided(app, setup, api):
    api.login()
    propose(api, kind="retire", code="GOV.PPP", rationale="rare")
    pid = latest_proposal(app)
    api.login("ada")
    assert decide(api, pid, "decline").status_code == 302
    assert decide(api, pid, "apply").status_code == 303
    with app.app_context():
        assert db.session.get(CodebookProposal, pid).status == "declined"
        assert db.session.scalar(sa.select(sa.func.count(CodebookVersion.id))) == 1


def test_imported_codes_survive_a_codebook_revision_and_show_on_the_page(
    app, setup, api, tmp_path
) -> None:
    # ATLAS.ti's own code tree comes in as IMPORTED codes; a later revision of the Milieu
    # codebook must keep them (and their codings), and the coding page must list them.
    import refi_quirks as q

    from survey_app.exports.refi_import import import_refi

    with app.app_context():
        import_refi(q.atlas_project(tmp_path / "atlas.qdpx"), create_interviews=True)
        db.session.commit()
    api.login()
    assert (
        propose(
            api,
            kind="add",
            family="OTHER",
            key="OTH.DIGIT",
            label_fr="Numérique",
            definition="Outils numériques",
            rationale="recurring",
        ).status_code
        == 302
    )
    api.login("ada")
    assert decide(api, latest_proposal(app)).status_code == 302
    with app.app_context():
        current = db.session.scalar(sa.select(CodebookVersion).where(CodebookVersion.is_current))
        imported = {c.key: c for c in current.codes if c.family == "IMPORTED"}
        assert set(imported) == {"Accompagnement", "TFE : suivi", "V.I.E"}
        assert imported["TFE : suivi"].parent_key == "Accompagnement"
        coding = db.session.scalar(
            sa.select(Coding).where(Coding.code_id == imported["TFE : suivi"].id)
        )
        assert coding.memo == "Citation clé pour D4."
        version_id = coding.transcript_version_id
    page = api.client.get(f"/coding/transcripts/{version_id}")
    assert page.status_code == 200 and "TFE : suivi" in page.get_data(as_text=True)


def test_admin_coding_in_an_open_round_is_blind_in_the_audit_trail(app, setup, api):
    version_id, codes = setup
    open_round(app, version_id, ["ana", "ada"])
    api.login("ana")
    api.create(
        version_id, *span_of(TEXT, "On se voit tous les mois"), codes["DYN.FREQ"], memo="ana-secret"
    )
    api.login("ada")
    mine = api.create(
        version_id,
        *span_of(TEXT, "C'est la Région qui fixe le cap"),
        codes["GOV.PILOT"],
        memo="ada-memo",
    )
    assert mine.status_code == 201
    page = api.client.get("/admin/audit").get_data(as_text=True)
    assert "ana-secret" not in page and "DYN.FREQ" not in page
    assert "ada-memo" in page  # their own work stays in view
    assert "Masqué" in page
    with app.app_context():  # the round closes: the trail shows everything again
        db.session.execute(sa.update(CodingRound).values(status="closed"))
        db.session.commit()
    assert "ana-secret" in api.client.get("/admin/audit").get_data(as_text=True)


def test_a_huge_code_id_is_refused_with_a_message(app, setup, api):
    version_id, _codes = setup
    api.login()
    start, end = span_of(TEXT, "On se voit tous les mois")
    response = api.create(version_id, start, end, 99999999999999999999)
    assert response.status_code == 400 and response.get_json()["ok"] is False
    for code_id in (2**63 - 1, 2**31):  # past SQLite's and PostgreSQL's INTEGER
        response = api.create(version_id, start, end, code_id)
        assert response.status_code == 400
    response = api.create(version_id, start, end, list(setup[1].values())[0], valence=10**30)
    assert response.status_code == 400
