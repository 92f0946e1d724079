"""Two saves of one section with the same version at the same instant: one wins, one gets 409."""

import re
import threading

import pytest
import sqlalchemy as sa
from milieu_testing import CONSENT, csrf_token

from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import Answer, Interview


def _client(app, username):
    client = app.test_client()
    token = csrf_token(client, "/login")
    client.post(
        "/login", data={"username": username, "password": "correct horse", "csrf_token": token}
    )
    return client


@pytest.mark.parametrize("autosave", [True, False], ids=["autosave", "section page"])
def test_the_loser_of_a_simultaneous_save_gets_409(
    app, create_user, interview, monkeypatch, autosave
):
    create_user("ines", "fieldworker")
    item = interview("ines", answers=CONSENT)
    url = f"/interviews/{item}/sections/parcours"
    clients = [_client(app, "ines"), _client(app, "ines")]
    forms = []
    for n, client in enumerate(clients):
        page = client.get(url).get_data(as_text=True)
        version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
        forms.append(
            {"csrf_token": csrf_token(client, url), "version": version, "a1": f"texte {n}"}
        )
    assert forms[0]["version"] == forms[1]["version"]

    # both requests pass the version check before either writes: the race the probe hit
    both_checked = threading.Barrier(2, timeout=10)
    validate = ops.validate_answers

    first_call = threading.local()

    def validate_together(*args, **kwargs):
        # only each request's first validation is the race point; later ones (the page
        # listing incomplete sections, say) run alone
        if not getattr(first_call, "passed", False):
            first_call.passed = True
            both_checked.wait()
        return validate(*args, **kwargs)

    monkeypatch.setattr(ops, "validate_answers", validate_together)
    responses = [None, None]

    def save(n):
        target = url + "/autosave" if autosave else url
        responses[n] = clients[n].post(target, data=forms[n])

    threads = [threading.Thread(target=save, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200 if autosave else 302, 409], codes
    loser = next(r for r in responses if r.status_code == 409)
    if autosave:
        assert loser.json["error"] == "stale"
    else:
        assert "entre-temps" in loser.get_data(as_text=True)
    winner = responses.index(next(r for r in responses if r.status_code != 409))
    with app.app_context():
        stored = db.session.scalar(
            sa.select(Answer.value).where(Answer.interview_id == item, Answer.question_key == "a1")
        )
        assert stored == f"texte {winner}"
        assert db.session.get(Interview, item).version == int(forms[0]["version"]) + 1
