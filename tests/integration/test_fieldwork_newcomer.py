"""Fieldwork as a newcomer meets it: partial saves, locked interviews, consent, submit errors."""

import re

import pytest
import sqlalchemy as sa
from milieu_testing import COMPLETE_SME, CONSENT

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Interview, TranscriptVersion


@pytest.fixture
def people(create_user):
    for name, role in (("ines", "fieldworker"), ("camille", "researcher")):
        create_user(name, role)


def version_of(app, interview_id):
    with app.app_context():
        return db.session.get(Interview, interview_id).version


def answers_of(app, interview_id):
    with app.app_context():
        rows = db.session.scalars(sa.select(Answer).where(Answer.interview_id == interview_id))
        return {r.question_key: r.value or r.missing for r in rows}


def post_section(client, get_csrf, interview_id, key, data, autosave=False):
    url = f"/interviews/{interview_id}/sections/{key}"
    token = get_csrf(url)
    version = version_of(client.application, interview_id)
    return client.post(
        url + "/autosave" if autosave else url,
        data={"csrf_token": token, "version": version, **data},
    )


def submit(client, get_csrf, interview_id):
    url = f"/interviews/{interview_id}"
    version = version_of(client.application, interview_id)
    return client.post(url + "/submit", data={"csrf_token": get_csrf(url), "version": version})


def test_one_invalid_answer_does_not_block_the_section(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    data = {"role": "dirigeant", "firm_size": "10_49", "year_founded": "deux mille"}
    response = post_section(client, get_csrf, item, "contexte", data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    stored = answers_of(app, item)
    assert stored["role"] == "dirigeant" and stored["firm_size"] == "10_49"
    assert "year_founded" not in stored or stored["year_founded"] is None
    # the invalid answer stays in its box, with its message; the section is marked incomplete
    assert re.search(r'name="year_founded"[^>]*value="deux mille"', page)
    assert "Nombre entier attendu" in page
    nav = re.search(r'<nav class="sections".*?</nav>', page, re.S).group(0)
    assert re.search(r'/sections/contexte"[^>]*class="incomplete"', nav)
    assert "(incomplète)" in nav


def test_autosave_saves_the_valid_answers_and_names_the_invalid_one(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    data = {"role": "cadre", "year_founded": "deux mille"}
    response = post_section(client, get_csrf, item, "contexte", data, autosave=True)
    assert response.status_code == 200 and response.json["ok"]
    assert response.json["version"] == version_of(app, item)
    assert set(response.json["errors"]) == {"year_founded"}
    assert answers_of(app, item)["role"] == "cadre"


def test_consent_refusal_is_not_reported_as_saved(client, auth, people, interview, get_csrf, app):
    item = interview("ines")
    auth.login("ines")
    response = post_section(client, get_csrf, item, "consentement", {"consent_data": "y"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Réponses enregistrées" not in page
    assert "Toutes les modifications sont enregistrées" not in page
    assert 'data-state="refused"' in page
    autosave = post_section(client, get_csrf, item, "consentement", {}, autosave=True)
    assert autosave.json["consent"] is False


def test_submit_errors_name_questions_by_label_with_links_in_one_list(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    assert submit(client, get_csrf, item).status_code == 302
    page = client.get(f"/interviews/{item}").get_data(as_text=True)
    lists = re.findall(r'<div class="flash flash-danger submit-problems".*?</div>', page, re.S)
    assert len(lists) == 1
    assert f'href="/interviews/{item}/sections/contexte#q-role"' in lists[0]
    assert "Quelle est votre fonction dans l&#39;entreprise ?" in lists[0]
    assert "Réponse obligatoire" in lists[0]
    # the list answers one attempt: it does not stay on later visits
    assert "submit-problems" not in client.get(f"/interviews/{item}").get_data(as_text=True)


def test_submitted_interview_is_read_only_and_says_who_can_reopen_it(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=COMPLETE_SME)
    auth.login("ines")
    submit(client, get_csrf, item)
    page = client.get(f"/interviews/{item}/sections/parcours").get_data(as_text=True)
    assert "soumis" in page and "lecture seule" in page and "chercheur" in page
    assert re.search(r'<fieldset class="questions" disabled>', page)
    assert "Enregistrer le brouillon" not in page
    refused = post_section(client, get_csrf, item, "parcours", {"a1": "x"})
    assert refused.status_code == 403 and "lecture seule" in refused.get_data(as_text=True)
    autosave = post_section(client, get_csrf, item, "parcours", {"a1": "x"}, autosave=True)
    assert autosave.status_code == 403 and autosave.json["error"] == "locked"
    assert "expiré" not in autosave.json["message"] and "soumis" in autosave.json["message"]
    assert answers_of(app, item).get("a1") != "x"


def test_fieldworker_adds_a_transcript_to_a_submitted_interview(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=COMPLETE_SME)
    auth.login("ines")
    submit(client, get_csrf, item)
    url = f"/interviews/{item}/transcript"
    for text in ("Q : Exportez-vous ?\nR : Oui.", "Q : Exportez-vous ?\nR : Oui, en Italie."):
        response = client.post(url, data={"csrf_token": get_csrf(url), "text": text})
        assert response.status_code == 302
    with app.app_context():
        row = db.session.get(Interview, item)
        assert row.status == "submitted"  # the answers were not reopened
        numbers = db.session.scalars(sa.select(TranscriptVersion.number)).all()
        assert sorted(numbers) == [1, 2]
        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "transcript.save")
        ).all()
        assert len(events) == 2


def test_review_comment_is_hidden_once_resubmitted(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=COMPLETE_SME)
    auth.login("ines")
    submit(client, get_csrf, item)
    auth.logout()
    auth.login("camille")
    url = f"/interviews/{item}"
    client.post(
        url + "/review",
        data={
            "csrf_token": get_csrf(url),
            "status": "has_issues",
            "comment": "A9 manque d'exemple",
            "version": version_of(app, item),
        },
    )
    auth.logout()
    auth.login("ines")
    assert "A9 manque d" in client.get(url).get_data(as_text=True)
    submit(client, get_csrf, item)
    assert "A9 manque d" not in client.get(url).get_data(as_text=True)


def test_pasted_transcript_of_2_mb_is_accepted_and_a_larger_one_kept(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    url = f"/interviews/{item}/transcript"
    line = "Enquêteur : Comment avez-vous trouvé vos premiers clients à l’étranger ?\n"
    text = line * (1_900_000 // len(line.encode("utf-8")))
    # the browser sends CRLF line ends: the form field is larger than the text
    assert 1_800_000 < len(text.encode("utf-8")) <= 2_000_000
    response = client.post(
        url, data={"csrf_token": get_csrf(url), "text": text.replace("\n", "\r\n")}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(TranscriptVersion.text)) == text.rstrip("\n")
    too_long = text + line * 3_000
    refused = client.post(url, data={"csrf_token": get_csrf(url), "text": too_long})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Transcription trop longue" in page and line.split(":")[1][:20] in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TranscriptVersion)) == 1


# --- organisations -----------------------------------------------------------------------------


@pytest.fixture
def communes(app):
    from survey_app.models import Territory

    with app.app_context():
        rows = [
            Territory(level="commune", code="34003", name="Agde"),
            Territory(level="commune", code="34172", name="Montpellier"),
        ]
        db.session.add_all(rows)
        db.session.commit()
        return {t.name: t.id for t in rows}


def test_new_organisation_has_no_default_commune(client, auth, people, communes, get_csrf, app):
    from survey_app.models import Organisation

    auth.login("ines")
    page = client.get("/organisations/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="territory_id".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option selected[^>]*>([^<]*)<", select) == ["— choisissez une commune —"]
    assert 'id="commune-search"' in page
    data = {"csrf_token": get_csrf("/organisations/new"), "kind": "sme", "name": "Optique Lez"}
    refused = client.post("/organisations/new", data={**data, "territory_id": ""})
    assert refused.status_code == 200 and "Choisissez la commune" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0
    accepted = client.post(
        "/organisations/new", data={**data, "territory_id": str(communes["Montpellier"])}
    )
    assert accepted.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Organisation)).territory.name == "Montpellier"


def test_organisation_list_searches_filters_and_shows_labels(
    client, auth, people, organisation, app
):
    from survey_app.models import Organisation

    sme = organisation("sme", "Vignobles Castelnau")
    relay = organisation("relay", "AD'OCC")
    with app.app_context():
        db.session.get(Organisation, sme).size_band = "11"
        db.session.get(Organisation, relay).relay_category = "regional_agency"
        db.session.commit()
    auth.login("ines")
    page = client.get("/organisations").get_data(as_text=True)
    assert "10 à 19 salariés" in page and ">11<" not in page
    assert "regional_agency" not in re.sub(r'title="[^"]*"', "", page)
    found = client.get("/organisations?q=castel").get_data(as_text=True)
    assert "Vignobles Castelnau" in found and "AD&#39;OCC" not in found
    relays = client.get("/organisations?kind=relay").get_data(as_text=True)
    assert "AD&#39;OCC" in relays and "Vignobles Castelnau" not in relays


def test_organisation_edit_page_changes_and_audits(
    client, auth, people, organisation, communes, get_csrf, app
):
    from survey_app.models import Organisation

    org_id = organisation("sme", "Optique Lez")
    auth.login("ines")
    url = f"/organisations/{org_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert 'value="Optique Lez"' in page
    response = client.post(
        url,
        data={
            "csrf_token": get_csrf(url),
            "kind": "relay",  # the kind stays: pseudonym and guides depend on it
            "name": "Optique Lez Instruments",
            "territory_id": str(communes["Agde"]),
            "size_band": "12",
            "export_share": "30",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org.kind == "sme" and org.pseudonym.startswith("PME_")
        assert (org.name, org.territory.name, org.size_band) == (
            "Optique Lez Instruments",
            "Agde",
            "12",
        )
        assert abs(org.export_share - 0.30) < 1e-9
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "organisation.update")
        )
        assert event.payload["changes"]["name"] == ["Optique Lez", "Optique Lez Instruments"]
