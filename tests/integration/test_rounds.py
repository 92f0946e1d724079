"""Blind double-coding rounds: creation, blind rule, done → closed, agreement, reconciliation."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import sqlalchemy as sa
from milieu_testing import csrf_token

from coding.agreement import agreement_table, spans_to_units
from survey_app.codings.operations import create_coding
from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Code,
    Coding,
    CodingRound,
    ReconciliationDecision,
    TranscriptVersion,
    User,
)

#: turns of the default test transcript (see tests/integration/conftest.py)
TURNS = [(0, 49), (50, 122), (123, 149), (150, 219)]
#: for tests about computation or validation rather than the database: SQLite only, to stay fast
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture(autouse=True)
def few_draws(app):
    app.config["ROUNDS_BOOTSTRAP"] = 200


@pytest.fixture
def people(create_user):
    ids = {}
    for name, role in (
        ("ines", "fieldworker"),
        ("camille", "researcher"),
        ("louis", "researcher"),
        ("nora", "researcher"),
        ("root", "admin"),
    ):
        ids[name] = create_user(name, role)
    return ids


def client_for(app, username):
    """A test client logged in as `username` (each has its own cookies)."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"username": username, "password": "correct horse", "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def make_round(app, tv_ids, coders=("camille", "louis"), name="Round A"):
    from survey_app.codings.codebook_versions import current_codebook
    from survey_app.rounds.lifecycle import create_round

    with app.app_context():
        users = [db.session.scalar(sa.select(User).where(User.username == u)) for u in coders]
        rnd = create_round(
            users[0],
            name,
            [db.session.get(TranscriptVersion, i) for i in tv_ids],
            users,
            current_codebook(),
        )
        db.session.commit()
        return rnd.id


def code(app, tv_id, username, key, start, end):
    """Make a coding as the coder would, through the one coding service."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        item = create_coding(
            db.session.get(TranscriptVersion, tv_id),
            start,
            end,
            db.session.scalar(sa.select(Code).where(Code.key == key)),
            user,
        )
        db.session.commit()
        return item.id


def round_version(app, round_id):
    with app.app_context():
        return db.session.get(CodingRound, round_id).version


def round_status(app, round_id):
    with app.app_context():
        return db.session.get(CodingRound, round_id).status


def post(client, url, data, page):
    """POST with the CSRF token of `page` (or of the rounds list when `page` redirects)."""
    if client.get(page).status_code != 200:
        page = "/rounds/"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page)})


def mark_done(app, client, round_id):
    page = f"/rounds/{round_id}"
    return post(
        client,
        f"/rounds/{round_id}/done",
        {"version": round_version(app, round_id), "confirm": "y"},
        page,
    )


@pytest.fixture
def hand_example(app, people, codebook, transcript):
    """Two coders, one transcript of 4 turns, GOV.PROX: camille turns 1-2, louis turn 1."""
    tv = transcript("ines")
    round_id = make_round(app, [tv])
    code(app, tv, "camille", "GOV.PROX", 12, 40)
    code(app, tv, "camille", "GOV.PROX", 63, 100)
    code(app, tv, "louis", "GOV.PROX", 5, 30)
    return round_id, tv


def close(app, round_id):
    for name in ("camille", "louis"):
        assert mark_done(app, client_for(app, name), round_id).status_code == 302
    assert round_status(app, round_id) == "closed"


def figures(client, url):
    """Agreement JSON: the first request starts the job (run at once in tests) and says 202."""
    response = client.get(url)
    if response.status_code == 202:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def recomputed(app, round_id):
    """Compute afresh, bypassing the stored job result."""
    from survey_app.rounds.agreement import agreement_report

    with app.app_context():
        return agreement_report(db.session.get(CodingRound, round_id), n_boot=200)


def agreement_page(client, url):
    page = client.get(url).get_data(as_text=True)
    if 'id="agreement-computing"' in page:
        page = client.get(url).get_data(as_text=True)
    assert 'id="agreement-computing"' not in page
    return page


def row(rows, key):
    return next(r for r in rows if r["code"] == key)


# --- creation and permissions ---------------------------------------------------------------


@SQLITE_ONLY
def test_fieldworkers_cannot_reach_rounds(app, people, codebook, transcript):
    tv = transcript("ines")
    round_id = make_round(app, [tv])
    client = client_for(app, "ines")
    for url in (
        "/rounds/",
        "/rounds/new",
        f"/rounds/{round_id}",
        f"/rounds/{round_id}/agreement",
        f"/rounds/{round_id}/agreement.json",
        f"/rounds/{round_id}/reconcile",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_token(client, "/")
    response = client.post("/rounds/new", data={"name": "x", "csrf_token": token})
    assert response.status_code == 403


def test_researcher_creates_a_round_with_a_coverage_warning(app, people, codebook, transcript):
    tvs = [transcript("ines") for _ in range(6)]
    client = client_for(app, "camille")
    page = client.get("/rounds/new").get_data(as_text=True)
    assert f'name="transcripts" value="{tvs[0]}"' in page
    assert f'name="coders" value="{people["louis"]}"' in page
    assert f'name="coders" value="{people["ines"]}"' not in page
    response = post(
        client,
        "/rounds/new",
        {"name": "Pilot", "transcripts": [tvs[0]], "coders": [people["camille"], people["louis"]]},
        "/rounds/new",
    )
    assert response.status_code == 302
    with app.app_context():
        rnd = db.session.scalar(sa.select(CodingRound))
        assert rnd.name == "Pilot" and rnd.status == "open"
        assert sorted(u.username for u in rnd.coders) == ["camille", "louis"]
        assert [tv.id for tv in rnd.transcript_versions] == [tvs[0]]
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.create"))
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-warning"' in listing
    rounds_page = client.get("/rounds/").get_data(as_text=True)
    assert 'class="coverage coverage-low" data-share="0.167"' in rounds_page


@SQLITE_ONLY
def test_earlier_codings_are_flagged_and_left_out(app, people, codebook, transcript):
    tv = transcript("ines")
    code(app, tv, "louis", "GOV.PROX", 63, 100)  # before any round
    client = client_for(app, "camille")
    response = post(
        client,
        "/rounds/new",
        {"name": "R", "transcripts": [tv], "coders": [people["camille"], people["louis"]]},
        "/rounds/new",
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "(louis: 1)" in page
    with app.app_context():
        rnd = db.session.scalar(sa.select(CodingRound))
        from survey_app.rounds.lifecycle import original_codings

        assert original_codings(rnd) == []


@SQLITE_ONLY
def test_round_of_one_coder_is_refused_and_nothing_made(app, people, codebook, transcript):
    tv = transcript("ines")
    client = client_for(app, "camille")
    response = post(
        client,
        "/rounds/new",
        {"name": "Solo", "transcripts": [tv], "coders": [people["camille"]]},
        "/rounds/new",
    )
    assert response.status_code == 400
    assert "au moins deux codeurs" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CodingRound)) == 0


@SQLITE_ONLY
def test_fieldworker_cannot_be_a_coder(app, people, codebook, transcript):
    tv = transcript("ines")
    client = client_for(app, "camille")
    response = post(
        client,
        "/rounds/new",
        {"name": "X", "transcripts": [tv], "coders": [people["camille"], people["ines"]]},
        "/rounds/new",
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CodingRound)) == 0


# --- the blind rule -------------------------------------------------------------------------


def test_open_round_pages_show_no_other_coder_codings(app, people, codebook, transcript):
    tv = transcript("ines")
    round_id = make_round(app, [tv])
    code(app, tv, "camille", "GOV.PROX", 12, 40)
    for start, end in TURNS:
        code(app, tv, "louis", "STR.PORT", start + 2, end - 2)
    urls = [
        f"/rounds/{round_id}",
        f"/rounds/{round_id}/agreement",
        f"/rounds/{round_id}/agreement.json",
        f"/rounds/{round_id}/reconcile",
        "/rounds/",
    ]
    for name in ("camille", "nora", "root"):
        client = client_for(app, name)
        for url in urls:
            response = client.get(url, follow_redirects=True)
            body = response.get_data(as_text=True)
            assert "STR.PORT" not in body, (name, url)
        json_response = client.get(f"/rounds/{round_id}/agreement.json")
        assert json_response.status_code == 409
        assert set(json_response.get_json()) == {"ok", "status", "message"}
    camille = client_for(app, "camille").get(f"/rounds/{round_id}").get_data(as_text=True)
    assert '<td class="progress">1</td>' in camille
    nora = client_for(app, "nora").get(f"/rounds/{round_id}").get_data(as_text=True)
    assert 'id="in-progress"' in nora and 'class="progress"' not in nora


def test_done_can_be_undone_and_the_last_done_closes_the_round(app, hand_example):
    round_id, _ = hand_example
    camille, louis = client_for(app, "camille"), client_for(app, "louis")
    nothing = post(
        camille,
        f"/rounds/{round_id}/done",
        {"version": round_version(app, round_id)},
        f"/rounds/{round_id}",
    )
    assert nothing.status_code == 302 and round_status(app, round_id) == "open"
    with app.app_context():
        assert (
            db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.coder_done"))
            is None
        )
    mark_done(app, camille, round_id)
    response = post(
        camille,
        f"/rounds/{round_id}/undo",
        {"version": round_version(app, round_id)},
        f"/rounds/{round_id}",
    )
    assert response.status_code == 302
    mark_done(app, louis, round_id)
    assert round_status(app, round_id) == "open"
    mark_done(app, camille, round_id)
    assert round_status(app, round_id) == "closed"
    with app.app_context():
        closing = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.close"))
        assert closing.payload["codings"] == {"camille": 2, "louis": 1}
        assert db.session.get(CodingRound, round_id).closed_dt is not None


@SQLITE_ONLY
def test_non_coder_cannot_mark_done(app, hand_example):
    round_id, _ = hand_example
    nora = client_for(app, "nora")
    response = mark_done(app, nora, round_id)
    assert response.status_code == 302
    assert "Vous ne codez pas dans ce tour" in nora.get(response.headers["Location"]).get_data(
        as_text=True
    )
    with app.app_context():
        assert (
            db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "round.coder_done"))
            is None
        )


# --- agreement ------------------------------------------------------------------------------


def test_agreement_matches_the_hand_computed_example(app, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    data = figures(client_for(app, "nora"), f"/rounds/{round_id}/agreement.json")
    gov = row(data["codes"], "GOV.PROX")
    # camille 1,1,0,0 and louis 1,0,0,0 over the 4 turns:
    # coincidences o00=4, o01=o10=1, o11=2; n0=5, n1=3; alpha = 1 - 7*2/(2*5*3) = 8/15
    assert gov["alpha"] == pytest.approx(8 / 15)
    assert gov["kappa"] == pytest.approx(0.5)  # p_o=.75, p_e=.5*.25+.5*.75=.5
    assert gov["percent_agreement"] == pytest.approx(0.75)
    assert gov["prevalence"] == pytest.approx(3 / 8)
    assert gov["band"] == "revise" and gov["n_units"] == 4
    assert gov["alpha_lo"] <= gov["alpha"] <= gov["alpha_hi"]
    assert row(data["families"], "GOVERNANCE")["alpha"] == pytest.approx(8 / 15)
    assert data["kappa_method"] == "cohen" and data["coders"] == ["camille", "louis"]

    # the same figures as the coding library on the same units (one implementation)
    units = pd.DataFrame(
        [{"unit": i, "coder": "camille", "codes": "GOV.PROX" if i < 2 else ""} for i in range(4)]
        + [{"unit": i, "coder": "louis", "codes": "GOV.PROX" if i == 0 else ""} for i in range(4)]
    )
    expected = agreement_table(units, n_boot=200, seed=0).set_index("code")
    for key in ("alpha", "alpha_lo", "alpha_hi", "kappa", "percent_agreement"):
        assert gov[key] == pytest.approx(expected.loc["GOV.PROX", key])


@SQLITE_ONLY
def test_exclude_uncoded_drops_the_turns_nobody_coded(app, hand_example):
    round_id, _ = hand_example
    close(app, round_id)
    client = client_for(app, "camille")
    data = figures(client, f"/rounds/{round_id}/agreement.json?exclude_uncoded=1")
    gov = row(data["codes"], "GOV.PROX")
    # only turns 1 and 2 remain: camille 1,1; louis 1,0
    assert gov["n_units"] == 2
    assert gov["percent_agreement"] == pytest.approx(0.5)
    assert gov["alpha"] == pytest.approx(0.0)
    assert gov["kappa"] == pytest.approx(0.0)
    page = agreement_page(client, f"/rounds/{round_id}/agreement?exclude_uncoded=1")
    assert "band-revise" in page and "0.800" in page


@SQLITE_ONLY
def test_character_level_agrees_with_the_library(app, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    data = figures(client_for(app, "louis"), f"/rounds/{round_id}/agreement.json?level=character")
    with app.app_context():
        length = len(db.session.get(TranscriptVersion, tv).text)
    spans = pd.DataFrame(
        [
            (tv, "camille", 12, 40, "GOV.PROX"),
            (tv, "camille", 63, 100, "GOV.PROX"),
            (tv, "louis", 5, 30, "GOV.PROX"),
        ],
        columns=["doc", "coder", "start", "end", "code"],
    )
    expected = agreement_table(spans_to_units(spans, {tv: length}), n_boot=200)
    gov = row(data["codes"], "GOV.PROX")
    assert gov["alpha"] == pytest.approx(expected.set_index("code").loc["GOV.PROX", "alpha"])
    # by hand: agreement on 219 - (12-5) - (40-30) - (100-63) = 165 of 219 characters
    assert gov["percent_agreement"] == pytest.approx(165 / 219)


@SQLITE_ONLY
def test_bad_level_is_refused(app, hand_example):
    round_id, _ = hand_example
    close(app, round_id)
    assert (
        client_for(app, "nora").get(f"/rounds/{round_id}/agreement.json?level=word").status_code
        == 400
    )


# --- reconciliation ---------------------------------------------------------------------------


def decide(client, app, round_id, tv, turn, key, decision, version=None, rationale=""):
    return post(
        client,
        f"/rounds/{round_id}/decisions",
        {
            "version": version if version is not None else round_version(app, round_id),
            "transcript_version_id": tv,
            "start": turn[0],
            "end": turn[1],
            "code": key,
            "decision": decision,
            "rationale": rationale,
        },
        f"/rounds/{round_id}/reconcile",
    )


def originals(app, round_id):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Coding)
            .where(Coding.round_id == round_id, Coding.source == "human")
            .order_by(Coding.id)
        )
        return [(c.id, c.coder_id, c.start, c.end, c.code_id, c.status, c.version) for c in rows]


def test_reconciliation_makes_consensus_codings_and_keeps_originals(app, people, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    before = originals(app, round_id)
    kept = figures(client_for(app, "nora"), f"/rounds/{round_id}/agreement.json")
    nora = client_for(app, "nora")
    page = nora.get(f"/rounds/{round_id}/reconcile").get_data(as_text=True)
    assert "coded by camille, not by louis" in page or "codé par camille, pas par louis" in page

    response = nora.post(
        f"/rounds/{round_id}/reconciled",
        data={
            "version": round_version(app, round_id),
            "csrf_token": csrf_token(nora, f"/rounds/{round_id}/reconcile"),
        },
    )
    assert response.status_code == 400 and round_status(app, round_id) == "closed"

    response = decide(nora, app, round_id, tv, TURNS[1], "GOV.PROX", "keep", rationale="proximité")
    assert response.status_code == 302
    pending = nora.get(f"/rounds/{round_id}/reconcile?pending=1").get_data(as_text=True)
    assert 'article class="card disagreement' not in pending  # the only one is decided
    assert 'article class="card disagreement decided' in nora.get(
        f"/rounds/{round_id}/reconcile?code=GOV.PROX"
    ).get_data(as_text=True)
    response = nora.post(
        f"/rounds/{round_id}/accept-agreements",
        data={
            "version": round_version(app, round_id),
            "csrf_token": csrf_token(nora, f"/rounds/{round_id}/reconcile"),
        },
    )
    assert response.status_code == 302
    response = nora.post(
        f"/rounds/{round_id}/reconciled",
        data={
            "version": round_version(app, round_id),
            "csrf_token": csrf_token(nora, f"/rounds/{round_id}/reconcile"),
        },
    )
    assert response.status_code == 302 and round_status(app, round_id) == "reconciled"
    summary = nora.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert re.search(r'id="reconciliation-progress">1\D+1', summary)

    assert originals(app, round_id) == before
    with app.app_context():
        consensus = db.session.scalars(
            sa.select(Coding).where(Coding.source == "consensus").order_by(Coding.start)
        ).all()
        assert [(c.start, c.end, c.coder_id, c.round_id) for c in consensus] == [
            (5, 40, people["nora"], round_id),  # turn 1, both coders: union of their spans
            (63, 100, people["nora"], round_id),  # turn 2, kept from camille's coding
        ]
        decisions = db.session.scalars(
            sa.select(ReconciliationDecision).order_by(ReconciliationDecision.start)
        ).all()
        assert [(d.decision, d.start, d.end) for d in decisions] == [
            ("keep", 0, 49),
            ("keep", 50, 122),
        ]
        assert decisions[1].rationale == "proximité"
        assert len(decisions[0].source_coding_ids) == 2
    assert recomputed(app, round_id)["codes"] == kept["codes"]  # still on the originals


@SQLITE_ONLY
def test_drop_decision_makes_no_consensus_coding(app, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    client = client_for(app, "camille")
    assert decide(client, app, round_id, tv, TURNS[1], "GOV.PROX", "keep").status_code == 302
    assert decide(client, app, round_id, tv, TURNS[1], "GOV.PROX", "drop").status_code == 302
    with app.app_context():
        first, made = db.session.scalars(
            sa.select(ReconciliationDecision).order_by(ReconciliationDecision.id)
        ).all()  # a changed decision is added; the first one stays on record
        assert (first.decision, made.decision) == ("keep", "drop")
        assert made.consensus_coding_id is None
        withdrawn = db.session.get(Coding, first.consensus_coding_id)
        assert withdrawn.source == "consensus" and withdrawn.status == "deleted"


def test_stale_decision_is_refused(app, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    old = round_version(app, round_id)
    camille, louis = client_for(app, "camille"), client_for(app, "louis")
    assert decide(camille, app, round_id, tv, TURNS[1], "GOV.PROX", "keep", old).status_code == 302
    response = decide(louis, app, round_id, tv, TURNS[1], "GOV.PROX", "drop", old)
    assert response.status_code == 409
    assert "modifié entre-temps" in response.get_data(as_text=True)
    with app.app_context():
        assert [d.decision for d in db.session.scalars(sa.select(ReconciliationDecision))] == [
            "keep"
        ]


@SQLITE_ONLY
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("code", "GOV.NOPE", "Code inconnu"),
        ("tv", "other", "ne fait pas partie du tour"),
        ("code", "STR.PORT", "Aucun codeur"),
        ("decision", "maybe", "keep or drop"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(
    app, hand_example, transcript, field, value, message
):
    round_id, tv = hand_example
    close(app, round_id)
    other = transcript("ines")
    args = {"tv": tv, "code": "GOV.PROX", "decision": "keep"}
    args[field] = other if value == "other" else value
    version = round_version(app, round_id)
    response = decide(
        client_for(app, "nora"), app, round_id, args["tv"], TURNS[1], args["code"], args["decision"]
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert message in body or (message == "keep or drop" and "garder ou écarter" in body)
    assert round_version(app, round_id) == version
    with app.app_context():
        assert db.session.scalar(sa.select(ReconciliationDecision)) is None
        assert db.session.scalar(sa.select(Coding).where(Coding.source == "consensus")) is None


@SQLITE_ONLY
def test_open_round_cannot_be_reconciled(app, hand_example):
    round_id, tv = hand_example
    nora = client_for(app, "nora")
    assert nora.get(f"/rounds/{round_id}/reconcile").status_code == 302
    response = nora.post(
        f"/rounds/{round_id}/decisions",
        data={
            "version": round_version(app, round_id),
            "transcript_version_id": tv,
            "start": TURNS[1][0],
            "end": TURNS[1][1],
            "code": "GOV.PROX",
            "decision": "keep",
            "csrf_token": csrf_token(nora, "/rounds/"),
        },
    )
    assert response.status_code == 400
    assert "Seul un tour clos" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(ReconciliationDecision)) is None


@SQLITE_ONLY
def test_json_is_serialisable_and_lists_every_coded_code(app, hand_example):
    round_id, tv = hand_example
    code(app, tv, "louis", "DYN.FREQ", 63, 80)
    close(app, round_id)
    data = figures(client_for(app, "root"), f"/rounds/{round_id}/agreement.json")
    assert [r["code"] for r in data["codes"]] == ["DYN.FREQ", "GOV.PROX", "ALL"]
    assert {r["code"] for r in data["families"]} == {"DYNAMICS", "GOVERNANCE", "ALL"}
    assert json.loads(json.dumps(data)) == data


def test_agreement_is_frozen_at_closure(app, hand_example):
    from survey_app.codings.operations import delete_coding

    round_id, tv = hand_example
    close(app, round_id)
    client = client_for(app, "nora")
    before = figures(client, f"/rounds/{round_id}/agreement.json")
    with app.app_context():
        louis = db.session.scalar(sa.select(User).where(User.username == "louis"))
        coding = db.session.scalar(sa.select(Coding).where(Coding.coder_id == louis.id))
        delete_coding(coding, louis)  # an edit after the round must not move its agreement
        db.session.commit()
    assert recomputed(app, round_id)["codes"] == before["codes"]
    page = client.get(f"/rounds/{round_id}").get_data(as_text=True)
    counts = re.findall(r'<td class="count" data-coder="(\w+)">(\d+)</td>', page)
    assert counts == [("camille", "2"), ("louis", "1")]  # the original codings, frozen


@SQLITE_ONLY
def test_a_transcript_is_in_one_open_round_per_coder(app, people, codebook, transcript):
    tv = transcript("ines")
    make_round(app, [tv], coders=("camille", "louis"))
    client = client_for(app, "nora")
    response = post(
        client,
        "/rounds/new",
        {"name": "Second", "transcripts": [tv], "coders": [people["nora"], people["louis"]]},
        "/rounds/new",
    )
    assert response.status_code == 400
    assert "louis code déjà une de ces transcriptions" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(CodingRound)) == 1


# --- command line -----------------------------------------------------------------------------


@SQLITE_ONLY
def test_command_prints_the_same_figures_as_the_web(app, hand_example, tmp_path):
    from survey_app.rounds.commands import rounds_group

    round_id, _ = hand_example
    runner = app.test_cli_runner()
    refused = runner.invoke(rounds_group, ["agreement", str(round_id)])
    assert refused.exit_code != 0 and "Error: round" in refused.output
    assert "Traceback" not in refused.output
    close(app, round_id)
    listing = runner.invoke(rounds_group, ["list"])
    assert listing.exit_code == 0
    assert listing.output.split("\t")[:3] == [str(round_id), "closed", "Round A"]
    out = tmp_path / "agreement.json"
    result = runner.invoke(
        rounds_group,
        ["agreement", str(round_id), "--format", "json", "--boot", "200", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    web = figures(client_for(app, "nora"), f"/rounds/{round_id}/agreement.json")
    assert json.loads(out.read_text())["codes"] == web["codes"]
    table = runner.invoke(rounds_group, ["agreement", str(round_id), "--boot", "0"])
    assert "code\tGOV.PROX\t4\t0.3750\t0.7500\t0.5000\t0.5333" in table.output
    missing = runner.invoke(rounds_group, ["agreement", "999"])
    assert missing.exit_code != 0 and "Error: no coding round 999" in missing.output


def test_agreement_runs_as_a_job_once_per_setting(app, hand_example):
    from survey_app.models import Job

    round_id, _ = hand_example
    close(app, round_id)
    client = client_for(app, "nora")
    first = client.get(f"/rounds/{round_id}/agreement.json")
    assert first.status_code == 202 and first.get_json()["status"] == "computing"
    assert first.headers["Retry-After"] == "2"
    assert client.get(f"/rounds/{round_id}/agreement.json").status_code == 200
    agreement_page(client, f"/rounds/{round_id}/agreement")  # same setting: the same job
    figures(client, f"/rounds/{round_id}/agreement.json?level=character")
    with app.app_context():
        jobs = db.session.scalars(sa.select(Job).order_by(Job.id)).all()
        assert [(j.kind, j.status, j.params["level"]) for j in jobs] == [
            ("round_agreement", "done", "unit"),
            ("round_agreement", "done", "character"),
        ]


@SQLITE_ONLY
def test_three_coders_get_light_kappa_and_every_pair(app, people, codebook, transcript):
    tv = transcript("ines")
    round_id = make_round(app, [tv], coders=("camille", "louis", "nora"))
    for name, turns in (("camille", [0, 1]), ("louis", [0]), ("nora", [0, 1, 3])):
        for t in turns:
            code(app, tv, name, "GOV.PROX", TURNS[t][0] + 1, TURNS[t][1] - 1)
    for name in ("camille", "louis", "nora"):
        mark_done(app, client_for(app, name), round_id)
    data = figures(client_for(app, "root"), f"/rounds/{round_id}/agreement.json")
    assert data["kappa_method"] == "mean_pairwise_cohen"
    pairs = {tuple(p["coders"]): p["kappa"]["GOV.PROX"] for p in data["pairwise"]}
    # camille 1100, louis 1000, nora 1101 (by hand: p_o and p_e per pair)
    assert pairs[("camille", "louis")] == pytest.approx(0.5)
    assert pairs[("camille", "nora")] == pytest.approx(0.5)
    assert pairs[("louis", "nora")] == pytest.approx(0.2)
    assert row(data["codes"], "GOV.PROX")["kappa"] == pytest.approx((0.5 + 0.5 + 0.2) / 3)


@SQLITE_ONLY
def test_last_coder_done_from_an_old_page_still_closes(app, hand_example):
    round_id, _ = hand_example
    camille, louis = client_for(app, "camille"), client_for(app, "louis")
    old = round_version(app, round_id)
    token = csrf_token(camille, f"/rounds/{round_id}")
    mark_done(app, louis, round_id)
    response = camille.post(
        f"/rounds/{round_id}/done", data={"version": old, "confirm": "y", "csrf_token": token}
    )
    assert response.status_code == 302 and round_status(app, round_id) == "closed"


def test_reconciliation_is_hidden_from_someone_blind_on_its_transcripts(app, hand_example):
    round_id, tv = hand_example
    close(app, round_id)
    make_round(app, [tv], coders=("camille", "nora"), name="Round B")  # camille blind again
    camille = client_for(app, "camille")
    response = camille.get(f"/rounds/{round_id}/reconcile", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "autre tour ouvert" in body and "article" not in body.split("<main>")[1]
    refused = decide(camille, app, round_id, tv, TURNS[1], "GOV.PROX", "keep")
    assert refused.status_code == 302
    assert "coded by" not in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(ReconciliationDecision)) is None
    louis = client_for(app, "louis").get(f"/rounds/{round_id}/reconcile")
    assert louis.status_code == 200 and "article" in louis.get_data(as_text=True)


@SQLITE_ONLY
def test_scripts_read_agreement_with_an_api_token(app, hand_example):
    from survey_app.api.tokens import create_token

    round_id, _ = hand_example
    close(app, round_id)
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(sa.select(User))}
        _, researcher = create_token(users["nora"], "script")
        _, fieldworker = create_token(users["ines"], "script")
        db.session.commit()
    client = app.test_client()  # no session cookie: the token alone
    url = f"/rounds/{round_id}/agreement.json"
    headers = {"Authorization": f"Bearer {researcher}"}
    if client.get(url, headers=headers).status_code == 202:
        pass  # the job ran at once (tests); the figures are there now
    data = client.get(url, headers=headers).get_json()
    assert row(data["codes"], "GOV.PROX")["alpha"] == pytest.approx(8 / 15)
    assert client.get(url, headers={"Authorization": f"Bearer {fieldworker}"}).status_code == 403
    assert client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get(url).status_code == 302  # no token, no session: the login page


def test_agreement_whose_worker_died_is_not_computing_forever(app, hand_example):
    from datetime import timedelta

    from survey_app.models import Job, utcnow

    round_id, _tv = hand_example
    close(app, round_id)
    client = client_for(app, "nora")
    url = f"/rounds/{round_id}/agreement.json"
    figures(client, url)
    with app.app_context():  # as if `milieu worker` was killed while computing it
        job = db.session.scalars(sa.select(Job).where(Job.kind == "round_agreement")).one()
        job.status, job.result, job.finished_dt = "running", None, None
        job.heartbeat_dt = utcnow() - timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 5)
        db.session.commit()
    stuck = client.get(url)
    assert stuck.status_code != 202
    assert "worker stopped" in stuck.get_json()["message"]
    assert client.get(f"/rounds/{round_id}/agreement?retry=1").status_code == 200
    assert figures(client, url)["ok"] is True


def test_round_page_tells_a_non_coder_what_they_see(app, people, codebook, transcript):
    tv = transcript("ines")
    round_id = make_round(app, [tv])
    code(app, tv, "louis", "STR.PORT", 12, 40)
    nora = client_for(app, "nora")
    page = nora.get(f"/rounds/{round_id}").get_data(as_text=True)
    assert "restent cachés" not in page  # what the page said, and was not true
    assert "vous montrent tous les codages" in page
    # the documented rule: a researcher outside the round is not blinded
    codings = nora.get(f"/coding/api/transcripts/{tv}/codings").get_json()
    assert [c["code"] for c in codings["codings"]] == ["STR.PORT"]
