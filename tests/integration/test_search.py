"""Search in transcripts: the database's full-text index, French words, permissions, snippets."""

from __future__ import annotations

import re

import pytest
from integration.test_workspace import Api

from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import TranscriptVersion
from survey_app.transcripts.search import SearchError, fts5_query

EXPORT_TEXT = (
    "Enquêteur : Comment avez-vous commencé ?\n"
    "Interviewé : Nos exportations vers l'Italie ont doublé grâce à la Région Occitanie.\n"
    "Enquêteur : Et les salons ?\n"
    "Interviewé : Le salon de Milan <b>coûte</b> cher (R&D), mais la région aide un peu.\n"
)
OTHER_TEXT = (
    "Enquêteur : Parlez-moi du club.\n"
    "Interviewé : Le club export réunit vingt dirigeants chaque trimestre.\n"
)


@pytest.fixture
def team(create_user):
    return {
        name: create_user(name, role)
        for name, role in (("ines", "fieldworker"), ("jo", "fieldworker"), ("ana", "researcher"))
    }


@pytest.fixture
def texts(team, transcript):
    """ines's interview (EXPORT_TEXT) and jo's (OTHER_TEXT); return their version ids."""
    return transcript("ines", EXPORT_TEXT), transcript("jo", OTHER_TEXT)


@pytest.fixture
def api(client, auth):
    return Api(client, auth, "ana")


def hits(api, q: str, **args) -> list[tuple[int, str]]:
    """(version id, data-start) of each hit on the search page."""
    resp = api.client.get("/transcripts/search", query_string={"q": q, **args})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    return [
        (int(v), s)
        for v, s in re.findall(
            r'class="card fts-hit" data-version="(\d+)" '
            r'data-start="(\d*)"',
            page,
        )
    ]


def test_french_words_match_across_plurals_and_accents(app, texts, api):
    mine, other = texts
    api.login("ana")
    exportations = str(EXPORT_TEXT.index("exportations"))
    # PostgreSQL's French stemmer also takes "export" for "exportation"; SQLite's prefix does not
    assert (mine, exportations) in hits(api, "exportation")
    assert hits(api, "Exportations") == hits(api, "exportation")
    assert hits(api, "exportation", version_id=mine) == [(mine, exportations)]
    # "region" finds "Région" and "région", each in its own speaker turn
    found = hits(api, "region", version_id=mine)
    assert found == [
        (mine, str(EXPORT_TEXT.index("Région"))),
        (mine, str(EXPORT_TEXT.index("région"))),
    ]
    assert hits(api, "régions") == hits(api, "region") != []
    assert hits(api, "trimestres") == [(other, str(OTHER_TEXT.index("trimestre")))]
    assert hits(api, "Bpifrance") == []


def test_snippet_is_escaped_and_marks_the_match(app, texts, api):
    api.login("ana")
    page = api.client.get("/transcripts/search?q=salon%20Milan").get_data(as_text=True)
    # SQLite keeps the markup as text, PostgreSQL's headline drops it: never raw HTML
    assert "<b>co" not in page and "R&amp;D" in page
    assert re.search(r"<mark>[Ss]alon</mark>", page) and "<mark>Milan</mark>" in page
    # punctuation only: a clear message, nothing searched
    page = api.client.get("/transcripts/search?q=%22%3A%2A").get_data(as_text=True)
    assert 'id="fts-empty"' in page


def test_fieldworkers_search_only_their_own_transcripts(app, texts, api):
    mine, other = texts
    api.login("ines")
    assert 'href="/transcripts/search"' in api.client.get("/interviews").get_data(as_text=True)
    assert hits(api, "exportations") == [(mine, str(EXPORT_TEXT.index("exportations")))]
    assert hits(api, "club") == []
    resp = api.client.get("/transcripts/search", query_string={"q": "club", "version_id": other})
    assert resp.status_code == 404
    # researchers read every transcript; the hit opens the workspace with the word selected
    api.login("ana")
    start = OTHER_TEXT.index("club")
    page = api.client.get("/transcripts/search?q=club").get_data(as_text=True)
    assert f"/coding/transcripts/{other}?focus={start}&amp;select={start}-{start + 4}" in page
    opened = api.client.get(f"/coding/transcripts/{other}?focus={start}&select={start}-{start + 4}")
    assert f'"select": [{start}, {start + 4}]' in opened.get_data(as_text=True)


def test_a_new_transcript_version_replaces_the_old_in_the_index(app, texts, api):
    mine, _other = texts
    with app.app_context():
        interview = db.session.get(TranscriptVersion, mine).transcript.interview
        ines = interview.fieldworker
        new = ops.save_transcript(interview, "Interviewé : Nous visons désormais le Japon.", ines)
        db.session.commit()
        new_id = new.id
    api.login("ana")
    assert hits(api, "Japon") == [(new_id, str(len("Interviewé : Nous visons désormais le ")))]
    # the old version is no longer current: its words are not found any more
    assert mine not in [v for v, _start in hits(api, "exportations")]


def test_sqlite_query_drops_plurals_and_keeps_short_words_whole():
    # "de" as a prefix would find "des", "développement"...: short words match only themselves
    assert fts5_query("Chambres de commerce") == '"chambre"* "de" "commerce"*'
    assert fts5_query("exportations régionaux") == '"exportation"* "regiona"*'
    with pytest.raises(SearchError):
        fts5_query("« : » *")
