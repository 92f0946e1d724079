"""Bad input from a browser or a script: always a 4xx with a message, never a 500."""

import pytest
import sqlalchemy as sa
from milieu_testing import CONSENT

from survey_app.api.tokens import create_token
from survey_app.extensions import db
from survey_app.models import User

HUGE = "99999999999999999999"  # past 2^63: overflows both databases' integers


@pytest.fixture
def people(create_user):
    for name, role in (("ines", "fieldworker"), ("root", "admin")):
        create_user(name, role)


def _token(app, username):
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        _row, text = create_token(user, "tests")
        db.session.commit()
        return {"Authorization": f"Bearer {text}"}


@pytest.mark.parametrize(
    "url",
    [
        f"/interviews/{HUGE}",
        f"/interviews/{2**31}",  # past PostgreSQL's INTEGER
        f"/interviews/{2**63}/sections/parcours",
        f"/interviews/{HUGE}/transcript",
        f"/coding/transcripts/{HUGE}",
        f"/admin/users/{HUGE}",
    ],
)
def test_ids_past_64_bits_are_not_found(client, auth, people, url):
    auth.login("root")
    response = client.get(url)
    assert response.status_code == 404
    assert "n’existe pas" in response.get_data(as_text=True) or "existe pas" in response.get_data(
        as_text=True
    )


def test_api_ids_and_pages_past_64_bits_are_refused(app, client, people):
    headers = _token(app, "root")
    response = client.get(f"/api/interviews/{HUGE}", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["message"]
    for page in (HUGE, str(2**62)):
        response = client.get(f"/api/interviews?page={page}", headers=headers)
        assert response.status_code == 400
        assert "page" in response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "url",
    [
        f"/transcripts/search?q=export&version_id={HUGE}",
        f"/coding/retrieval?code=GOVERNANCE&territory_id={HUGE}",
        f"/coding/retrieval?code=GOVERNANCE&coder_id={HUGE}&round_id={HUGE}&version_id={HUGE}",
        f"/coding/retrieval.csv?code=GOVERNANCE&territory_id={HUGE}",
        f"/coding/?territory_id={HUGE}",
        f"/coding/matrix?territory_id={HUGE}",
        f"/coding/models?job={HUGE}",
        f"/coding/next?job={HUGE}",
        f"/interviews/new?organisation={HUGE}",
    ],
)
def test_query_string_ids_past_64_bits_are_ignored_not_a_500(client, auth, people, url):
    # a number no row id can have reads as no id at all, like a word would
    auth.login("root")
    assert client.get(url).status_code < 500


@pytest.mark.parametrize("page", [HUGE, "abc", "0", "-3"])
def test_audit_page_number_is_checked(client, auth, people, page):
    auth.login("root")
    response = client.get(f"/admin/audit?page={page}")
    assert response.status_code == 400
    assert "requête" in response.get_data(as_text=True)


def test_version_that_is_not_a_number_is_refused(client, auth, people, interview, get_csrf, app):
    item = interview("ines", answers=CONSENT)
    auth.login("ines")
    url = f"/interviews/{item}/sections/parcours"
    token = get_csrf(url)
    for version in ("abc", HUGE + "0"):
        autosave = client.post(
            url + "/autosave", data={"csrf_token": token, "version": version, "a1": "x"}
        )
        assert autosave.status_code == 400 and autosave.json["message"]
        page = client.post(url, data={"csrf_token": token, "version": version, "a1": "x"})
        assert page.status_code == 400
        submit = client.post(
            f"/interviews/{item}/submit", data={"csrf_token": token, "version": version}
        )
        assert submit.status_code == 400


def test_round_form_with_ids_past_64_bits_is_refused_not_a_500(client, auth, people, get_csrf):
    auth.login("root")
    token = get_csrf("/rounds/new")
    data = {"csrf_token": token, "name": "x", "transcripts": HUGE, "coders": HUGE}
    response = client.post("/rounds/new", data=data)
    assert response.status_code == 400
