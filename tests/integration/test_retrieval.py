"""Retrieval: passages coded with a code or family, filtered, exported, within the blind rule."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from integration.test_workspace import TEXT, Api, add_suggestion, open_round, span_of

from survey_app.extensions import db
from survey_app.models import Organisation, Territory, TranscriptVersion, User

RELAY_TEXT = (
    "Enquêteur : Qui vous a aidé à exporter ?\n"
    'Interviewé : =HYPERLINK("http://x") nous avons monté un club export avec la CCI.\n'
)


@pytest.fixture
def team(create_user):
    return {
        name: create_user(name, role)
        for name, role in (
            ("ines", "fieldworker"),
            ("ana", "researcher"),
            ("bob", "researcher"),
        )
    }


@pytest.fixture
def cases(app, team, codebook, transcript, interview):
    """An SME in Hérault and a relay actor in Gard, each with a transcript; return version ids."""
    sme = transcript("ines", TEXT)
    relay = transcript("ines", RELAY_TEXT, interview_id=interview("ines", "relay_actor"))
    with app.app_context():
        for version_id, (dept, commune) in (
            (sme, (("34", "Hérault"), ("34172", "Montpellier"))),
            (relay, (("30", "Gard"), ("30189", "Nîmes"))),
        ):
            parent = Territory(level="departement", code=dept[0], name=dept[1])
            place = Territory(level="commune", code=commune[0], name=commune[1], parent=parent)
            db.session.add_all([parent, place])
            version = db.session.get(TranscriptVersion, version_id)
            org = db.session.get(Organisation, version.transcript.interview.organisation_id)
            org.territory = place
        db.session.commit()
    return sme, relay


@pytest.fixture
def api(client, auth):
    return Api(client, auth, "ana")


def territory_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Territory.id).where(Territory.name == name))


def user_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == name))


def coded(api, version_id, text, needle, code_id, **extra) -> dict:
    resp = api.create(version_id, *span_of(text, needle), code_id, **extra)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["coding"]


def passages(api, **args) -> list[str]:
    """The coding ids listed on the retrieval page, in order."""
    resp = api.client.get("/coding/retrieval", query_string=args)
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    return [int(x) for x in re.findall(r'data-coding="(\d+)"', page)]


def test_retrieval_lists_passages_with_context_case_coder_and_memo(app, cases, codebook, api):
    sme, relay = cases
    api.login("ana")
    a = coded(api, sme, TEXT, "On se voit tous les mois", codebook["DYN.FREQ"], memo="proche")
    coded(api, sme, TEXT, "C'est la Région qui fixe le cap", codebook["GOV.PILOT"])
    page = api.client.get("/coding/retrieval?code=DYN.FREQ").get_data(as_text=True)
    assert f'data-coding="{a["id"]}"' in page
    assert "<mark>On se voit tous les mois</mark>" in page  # the passage, marked in its context
    assert ", la conseillère est à dix minutes." in page  # the context after it
    assert "Montpellier" in page and "Hérault" in page and "proche" in page and "ana" in page
    assert "<mark>C&#39;est la Région" not in page  # GOV.PILOT is not DYN.FREQ
    # a family retrieves every code of it; the page without a code lists nothing
    assert len(passages(api, code="GOVERNANCE")) == 1
    assert passages(api) == []


def test_retrieval_filters_by_territory_type_coder_round_and_source(app, cases, codebook, api):
    sme, relay = cases
    api.login("ana")
    by_ana = coded(api, sme, TEXT, "On se voit tous les mois", codebook["GOV.PROX"])
    in_gard = coded(api, relay, RELAY_TEXT, "club export avec la CCI", codebook["GOV.PROX"])
    suggestion = add_suggestion(app, sme, codebook["GOV.PROX"], *span_of(TEXT, "Et la Région"))
    accepted = api.post(f"/coding/api/suggestions/{suggestion}/accept").get_json()["coding"]
    api.login("bob")
    by_bob = coded(api, sme, TEXT, "la conseillère est à dix minutes", codebook["GOV.PROX"])

    everything = passages(api, code="GOV.PROX")
    assert sorted(everything) == sorted([by_ana["id"], in_gard["id"], accepted["id"], by_bob["id"]])
    gard = territory_id(app, "Gard")
    assert passages(api, code="GOV.PROX", territory_id=gard) == [in_gard["id"]]
    assert passages(api, code="GOV.PROX", respondent_type="relay") == [in_gard["id"]]
    assert sorted(passages(api, code="GOV.PROX", coder_id=user_id(app, "bob"))) == [by_bob["id"]]
    assert passages(api, code="GOV.PROX", source="model") == [accepted["id"]]
    human = passages(api, code="GOV.PROX", source="human")
    assert accepted["id"] not in human and by_bob["id"] in human and len(human) == 3
    assert passages(api, code="GOV.PROX", version_id=relay) == [in_gard["id"]]

    # a round filter keeps the codings made in that round
    round_id = open_round(app, relay, ["bob"])
    in_round = coded(api, relay, RELAY_TEXT, "nous avons monté", codebook["GOV.PROX"])
    assert passages(api, code="GOV.PROX", round_id=round_id) == [in_round["id"]]


def test_blind_coder_retrieves_only_own_codings_on_round_transcripts(app, cases, codebook, api):
    sme, relay = cases
    api.login("bob")
    bobs_sme = coded(api, sme, TEXT, "C'est la Région qui fixe le cap", codebook["GOV.PILOT"])
    bobs_relay = coded(api, relay, RELAY_TEXT, "club export", codebook["GOV.PILOT"])
    open_round(app, sme, ["ana", "bob"])
    api.login("ana")
    anas = coded(api, sme, TEXT, "Et la Région", codebook["GOV.PILOT"], memo="ana-memo")
    # ana codes the Hérault transcript blind: bob's coding there is hidden, not the other one
    assert sorted(passages(api, code="GOV.PILOT")) == sorted([anas["id"], bobs_relay["id"]])
    exported = api.client.get("/coding/retrieval.csv?code=GOVERNANCE").get_data(as_text=True)
    assert "fixe le cap" not in exported and "club export" in exported
    api.login("bob")
    assert bobs_sme["id"] in passages(api, code="GOV.PILOT")
    assert anas["id"] not in passages(api, code="GOV.PILOT")
    # fieldworkers have no retrieval
    api.login("ines")
    assert api.client.get("/coding/retrieval?code=GOV.PILOT").status_code == 403
    assert api.client.get("/coding/retrieval.xlsx?code=GOV.PILOT").status_code == 403


def test_export_csv_and_xlsx_neutralise_formula_cells(app, cases, codebook, api):
    sme, relay = cases
    api.login("ana")
    coded(
        api, relay, RELAY_TEXT, '=HYPERLINK("http://x") nous', codebook["STR.NETW"], memo="@SUM(A1)"
    )
    coded(api, sme, TEXT, "On se voit tous les mois", codebook["STR.NETW"], memo="-1 mois")

    resp = api.client.get("/coding/retrieval.csv?code=STR.NETW")
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == 2
    by_case = {r["respondent_type"]: r for r in rows}
    assert by_case["relay"]["text"] == '\'=HYPERLINK("http://x") nous'
    assert by_case["relay"]["memo"] == "'@SUM(A1)"
    assert by_case["relay"]["territory"] == "Nîmes"
    assert by_case["relay"]["departement"] == "Gard"
    assert by_case["sme"]["memo"] == "'-1 mois"
    assert by_case["sme"]["text"] == "On se voit tous les mois"
    assert by_case["sme"]["coder"] == "ana" and by_case["sme"]["source"] == "human"

    resp = api.client.get("/coding/retrieval.xlsx?code=STR.NETW")
    assert resp.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(resp.data)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = values[0]
    texts = {row[header.index("text")] for row in values[1:]}
    assert texts == {'\'=HYPERLINK("http://x") nous', "On se voit tous les mois"}
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    # no code chosen: a clear message, no file
    resp = api.client.get("/coding/retrieval.csv")
    assert resp.status_code == 302


def test_matrix_cells_link_to_their_passages(app, cases, codebook, api):
    sme, relay = cases
    api.login("ana")
    coded(api, sme, TEXT, "On se voit tous les mois", codebook["DYN.FREQ"])
    matrix = api.client.get("/coding/matrix").get_data(as_text=True)
    assert f"/coding/retrieval?code=DYN.FREQ&amp;version_id={sme}" in matrix
    families = api.client.get("/coding/matrix?level=family").get_data(as_text=True)
    link = f"/coding/retrieval?code=DYNAMICS&amp;version_id={sme}"
    assert link in families
    assert len(passages(api, code="DYNAMICS", version_id=sme)) == 1


def test_visible_codings_across_is_the_per_transcript_rule(app, cases, codebook, api):
    from survey_app.codings.operations import visible_codings_across, visible_codings_query

    sme, relay = cases
    api.login("bob")
    coded(api, sme, TEXT, "C'est la Région qui fixe le cap", codebook["GOV.PILOT"])
    coded(api, relay, RELAY_TEXT, "club export", codebook["GOV.PILOT"])
    open_round(app, sme, ["ana", "bob"])
    api.login("ana")
    coded(api, sme, TEXT, "Et la Région", codebook["GOV.PILOT"])
    coded(api, relay, RELAY_TEXT, "nous avons", codebook["DYN.FREQ"])
    with app.app_context():
        for name in ("ana", "bob", "ines"):
            user = db.session.scalar(sa.select(User).where(User.username == name))
            one_by_one = {
                c.id
                for v in (sme, relay)
                for c in db.session.scalars(visible_codings_query(user, v))
            }
            at_once = {c.id for c in db.session.scalars(visible_codings_across(user, [sme, relay]))}
            assert at_once == one_by_one, name
        ana = db.session.scalar(sa.select(User).where(User.username == "ana"))
        assert len(one_by_one) == 0  # ines, a fieldworker, sees no codings
        assert len(list(db.session.scalars(visible_codings_across(ana, [sme, relay])))) == 3


def test_neutralise_quotes_every_formula_start_and_nothing_else():
    # the retrieval export follows the data exports' rule (analysis.writers.tabular): a
    # number such as "-2" is left as it is, "-2+3" is a formula
    from analysis.writers.tabular import neutralise_cell

    for text in ("=1+1", "+33 6", "-2+3", "-A1", "@SUM(A1)", "\tcmd", "\rcmd"):
        assert neutralise_cell(text) == "'" + text
    for value in ("Région = pilote", " =1", "", "-2", "+3,5", 3, None):
        assert neutralise_cell(value) == value
