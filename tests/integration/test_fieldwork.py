"""Fieldwork pages: permissions, consent gate, drafts, autosave, stale saves, submit, review."""

import re

import pytest
import sqlalchemy as sa
from milieu_testing import COMPLETE_SME, CONSENT

from survey_app.extensions import db
from survey_app.models import Answer, AuditEvent, Interview


@pytest.fixture
def people(create_user):
    for name, role in (
        ("ines", "fieldworker"),
        ("marc", "fieldworker"),
        ("camille", "researcher"),
        ("root", "admin"),
    ):
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
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page)
    payload = {"csrf_token": token, "version": version.group(1), **data}
    return client.post(url + "/autosave" if autosave else url, data=payload)


# --- who sees what -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "/sections/consentement", "/transcript"])
def test_fieldworker_cannot_open_another_fieldworkers_interview(
    client, auth, people, interview, path
):
    other = interview("marc")
    auth.login("ines")
    assert client.get(f"/interviews/{other}{path}").status_code == 404


def test_fieldworker_cannot_write_to_another_fieldworkers_interview(
    client, auth, people, interview, get_csrf, app
):
    other = interview("marc")
    auth.login("ines")
    response = client.post(
        f"/interviews/{other}/sections/consentement",
        data={"csrf_token": get_csrf("/"), "version": "1", **CONSENT},
    )
    assert response.status_code == 404
    assert answers_of(app, other) == {}


def test_interview_list_shows_only_own_interviews_to_fieldworkers(client, auth, people, interview):
    interview("ines")
    interview("marc")
    auth.login("ines")
    page = client.get("/interviews").get_data(as_text=True)
    assert "sme of ines" in page and "sme of marc" not in page
    auth.logout()
    auth.login("camille")
    page = client.get("/interviews").get_data(as_text=True)
    assert "sme of ines" in page and "sme of marc" in page


def test_anonymous_users_are_sent_to_login(client, people, interview):
    item = interview("ines")
    response = client.get(f"/interviews/{item}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- entering answers ----------------------------------------------------------------------------


def test_new_interview_starts_at_consent(
    client, auth, people, instruments, organisation, get_csrf, app
):
    org = organisation("sme")
    auth.login("ines")
    token = get_csrf("/interviews/new")
    response = client.post(
        "/interviews/new",
        data={
            "csrf_token": token,
            "instrument_version_id": instruments["sme_manager"],
            "organisation_id": org,
            "interview_date": "2026-11-03",
            "place": "Montpellier",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sections/consentement")


def test_guide_and_organisation_kind_must_match(
    client, auth, people, instruments, organisation, get_csrf, app
):
    relay = organisation("relay", "CCI")
    auth.login("ines")
    response = client.post(
        "/interviews/new",
        data={
            "csrf_token": get_csrf("/interviews/new"),
            "instrument_version_id": instruments["sme_manager"],
            "organisation_id": relay,
        },
    )
    assert response.status_code == 200
    assert "ne correspond pas" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 0


def test_nothing_is_saved_before_consent(client, auth, people, interview, get_csrf, app):
    item = interview("ines")
    auth.login("ines")
    page = client.get(f"/interviews/{item}/sections/contexte")
    assert page.status_code == 302 and page.headers["Location"].endswith("/sections/consentement")
    response = client.post(
        f"/interviews/{item}/sections/contexte/autosave",
        data={"csrf_token": get_csrf("/"), "version": version_of(app, item), "role": "dirigeant"},
    )
    assert response.status_code == 422
    assert answers_of(app, item) == {}


def test_draft_save_with_skip_logic(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    response = post_section(
        client,
        get_csrf,
        item,
        "contexte",
        {"role": "dirigeant", "exports": "no", "next_section": "parcours"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sections/parcours")
    stored = answers_of(app, item)
    assert stored["exports"] == "no"
    assert stored["export_share"] == "not_asked"  # hidden by skip logic, kept as its own kind
    assert "firm_size" not in stored  # a draft may leave required questions empty


def test_missing_kinds_are_kept(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    post_section(
        client,
        get_csrf,
        item,
        "contexte",
        {"role": "dirigeant", "firm_size": "refused", "year_founded__missing": "dont_know"},
    )
    stored = answers_of(app, item)
    assert stored["firm_size"] == "refused" and stored["year_founded"] == "dont_know"


def test_autosave_returns_new_version(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    before = version_of(app, item)
    response = post_section(
        client, get_csrf, item, "parcours", {"a1": "Nous exportons"}, autosave=True
    )
    assert response.status_code == 200
    assert response.json["ok"] is True and response.json["version"] == before + 1
    assert answers_of(app, item)["a1"] == "Nous exportons"


def test_invalid_answer_is_refused_and_shown_back(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    response = post_section(
        client, get_csrf, item, "contexte", {"role": "dirigeant", "year_founded": "mille neuf cent"}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "mille neuf cent" in page  # the typed value stays on screen
    assert "year_founded" not in answers_of(app, item)


def test_second_save_on_a_stale_version_is_refused_and_input_shown(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    url = f"/interviews/{item}/sections/parcours"
    token = get_csrf(url)
    stale_version = version_of(app, item)
    first = client.post(
        url, data={"csrf_token": token, "version": stale_version, "a1": "first text"}
    )
    assert first.status_code == 302
    second = client.post(
        url,
        data={"csrf_token": token, "version": stale_version, "a1": "second text, typed elsewhere"},
    )
    assert second.status_code == 409
    page = second.get_data(as_text=True)
    assert "entre-temps" in page and "second text, typed elsewhere" in page
    assert answers_of(app, item)["a1"] == "first text"
    again = client.post(
        url + "/autosave", data={"csrf_token": token, "version": stale_version, "a1": "x"}
    )
    assert again.status_code == 409 and again.json["error"] == "stale"


def test_submit_needs_every_required_answer(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    url = f"/interviews/{item}"
    response = client.post(
        url + "/submit", data={"csrf_token": get_csrf(url), "version": version_of(app, item)}
    )
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "Réponse obligatoire" in page
    with app.app_context():
        assert db.session.get(Interview, item).status == "draft"


def test_submit_then_review_then_fieldworker_can_no_longer_edit(
    client, auth, people, interview, get_csrf, app
):
    item = interview("ines", answers=COMPLETE_SME)
    auth.login("ines")
    url = f"/interviews/{item}"
    client.post(
        url + "/submit", data={"csrf_token": get_csrf(url), "version": version_of(app, item)}
    )
    with app.app_context():
        assert db.session.get(Interview, item).status == "submitted"
    blocked = client.post(
        f"{url}/sections/parcours",
        data={"csrf_token": get_csrf(url), "version": version_of(app, item), "a1": "x"},
    )
    assert blocked.status_code == 403
    review = client.post(
        url + "/review",
        data={"csrf_token": get_csrf(url), "status": "approved", "version": version_of(app, item)},
    )
    assert review.status_code == 403  # fieldworkers do not review
    auth.logout()
    auth.login("camille")
    client.post(
        url + "/review",
        data={
            "csrf_token": get_csrf(url),
            "status": "has_issues",
            "comment": "A9 manque d'exemple",
            "version": version_of(app, item),
        },
    )
    # a researcher's edit after submission is allowed and audited
    response = post_section(client, get_csrf, item, "parcours", {"a1": "corrigé"})
    assert response.status_code == 302
    with app.app_context():
        interview_row = db.session.get(Interview, item)
        assert interview_row.status == "has_issues"
        assert interview_row.review_comment == "A9 manque d'exemple"
        events = db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "interview.answers")
            .order_by(AuditEvent.id)
        ).all()
        assert events[-1].payload["changes"]["a1"] == [None, "corrigé"]
        assert events[-1].payload["status"] == "has_issues"


# --- organisations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("siret", "12345678901234\n"),  # a trailing newline passes a "$"-anchored pattern
        ("siret", "１２３４５６７８９０１２３４"),  # fullwidth digits match "\d"
        ("siret", "1234567890123"),
        ("naf_code", "28.29B\n"),
        ("naf_code", "٢٨.٢٩B"),  # Arabic-Indic digits match "\d"
    ],
)
def test_organisation_codes_must_be_ascii_digits(client, auth, people, get_csrf, app, field, value):
    from survey_app.models import Organisation, Territory

    with app.app_context():
        commune = Territory(level="commune", code="34172", name="Montpellier")
        db.session.add(commune)
        db.session.commit()
        commune_id = commune.id
    auth.login("camille")
    url = "/organisations/new"
    data = {
        "csrf_token": get_csrf(url),
        "kind": "sme",
        "name": "Optique Lez",
        "territory_id": str(commune_id),
        "siret": "34172000000012",
        "naf_code": "26.70Z",
    }
    refused = client.post(url, data={**data, field: value})
    assert refused.status_code == 200
    assert "14 chiffres" in refused.get_data(as_text=True) or "28.29B" in refused.get_data(
        as_text=True
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Organisation)) == 0
    accepted = client.post(url, data=data)
    assert accepted.status_code == 302
    with app.app_context():
        org = db.session.scalar(sa.select(Organisation))
        assert (org.siret, org.naf_code) == ("34172000000012", "26.70Z")
