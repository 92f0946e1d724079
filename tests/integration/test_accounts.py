"""Accounts from the web: administrators create, change, disable and reset; every user
changes their own password. A disabled account or a new password ends open sessions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from milieu_testing import csrf_token

from survey_app.extensions import db
from survey_app.models import AuditEvent, User


def user(app, name: str) -> User | None:
    with app.app_context():
        found = db.session.scalar(sa.select(User).where(User.username == name))
        if found is not None:
            db.session.expunge(found)
        return found


def log_in(app, name: str, password: str = "correct horse"):
    """A client of its own (its own session), logged in as name."""
    client = app.test_client()
    client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": csrf_token(client, "/login")},
    )
    return client


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, url), **data})


@pytest.fixture
def boss(app, create_user):
    create_user("boss", "admin")
    return log_in(app, "boss")


def test_admin_creates_an_account_that_can_log_in(app, boss) -> None:
    response = post(
        boss,
        "/admin/users/new",
        username="Nadia",
        display_name="Nadia B.",
        role="fieldworker",
        password="a long secret",
        confirm="a long secret",
    )
    assert response.status_code == 302
    nadia = user(app, "nadia")
    assert nadia.role == "fieldworker" and nadia.display_name == "Nadia B." and nadia.is_enabled
    assert "a long secret" not in nadia.password_hash
    assert logged_in(log_in(app, "nadia", "a long secret"))
    assert boss.get("/admin/users/9999").status_code == 404
    assert (
        post(
            boss, "/admin/users/9999/password", password="a long secret", confirm="a long secret"
        ).status_code
        == 404
    )
    listing = boss.get("/admin/users").get_data(as_text=True)
    assert f'href="/admin/users/{nadia.id}">nadia</a>' in listing
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "user.create")
            .order_by(AuditEvent.id.desc())
            .limit(1)
        )
        assert event.payload == {"username": "nadia", "role": "fieldworker"}
        assert event.user_id == user(app, "boss").id


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "boss"}, "Un compte nommé &#39;boss&#39; existe déjà."),
        ({"confirm": "another secret"}, "Les deux mots de passe diffèrent."),
        ({"password": "short", "confirm": "short"}, "Au moins 8 caractères."),
        ({"username": "élise"}, "Lettres sans accents, chiffres, points, tirets et tirets bas."),
        ({"role": "owner"}, "N&#39;est pas un choix valide."),
    ],
)
def test_a_refused_account_changes_nothing(app, boss, fields, message) -> None:
    data = {
        "username": "nadia",
        "display_name": "",
        "role": "researcher",
        "password": "a long secret",
        "confirm": "a long secret",
        **fields,
    }
    response = post(boss, "/admin/users/new", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1


@pytest.mark.parametrize("backend", ["sqlite"])  # permissions, not the database
def test_only_administrators_manage_accounts(app, create_user) -> None:
    create_user("camille", "researcher")
    create_user("ines", "fieldworker")
    target = user(app, "ines").id
    for name in ("camille", "ines"):
        client = log_in(app, name)
        for url in ("/admin/users", "/admin/users/new", f"/admin/users/{target}"):
            assert client.get(url).status_code == 403, (name, url)
        token = csrf_token(client, "/account/password")
        for url in (
            "/admin/users/new",
            f"/admin/users/{target}",
            f"/admin/users/{target}/password",
        ):
            response = client.post(
                url,
                data={
                    "csrf_token": token,
                    "username": "x",
                    "role": "admin",
                    "is_enabled": "y",
                    "password": "a long secret",
                    "confirm": "a long secret",
                },
            )
            assert response.status_code == 403, (name, url)
    assert user(app, "ines").role == "fieldworker" and user(app, "x") is None
    anonymous = app.test_client()
    assert anonymous.get("/admin/users/new").status_code == 302
    assert anonymous.get("/account/password").status_code == 302


def test_disabling_an_account_ends_its_sessions(app, boss, create_user) -> None:
    create_user("ines", "fieldworker")
    ines = log_in(app, "ines")
    assert logged_in(ines)
    target = user(app, "ines").id
    response = post(boss, f"/admin/users/{target}", display_name="Inès", role="researcher")
    assert response.status_code == 302  # no is_enabled: the box is unticked
    changed = user(app, "ines")
    assert (changed.role, changed.display_name, changed.is_enabled) == ("researcher", "Inès", False)
    assert not logged_in(ines)
    assert not logged_in(log_in(app, "ines"))
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.update"))
        assert event.payload["is_enabled"] == [True, False]
        assert event.payload["role"] == ["fieldworker", "researcher"]
    post(boss, f"/admin/users/{target}", display_name="Inès", role="researcher", is_enabled="y")
    assert logged_in(log_in(app, "ines"))


def test_an_admin_cannot_lock_themselves_out(app, boss) -> None:
    me = user(app, "boss").id
    for fields in ({"role": "researcher", "is_enabled": "y"}, {"role": "admin"}):
        response = post(boss, f"/admin/users/{me}", display_name="", **fields)
        assert response.status_code == 400
        assert "Vous ne pouvez ni retirer votre propre rôle" in response.get_data(as_text=True)
    still = user(app, "boss")
    assert still.role == "admin" and still.is_enabled and logged_in(boss)


def test_admin_sets_a_new_password_and_the_old_sessions_end(app, boss, create_user) -> None:
    create_user("ines", "fieldworker")
    ines = log_in(app, "ines")
    target = user(app, "ines").id
    refused = post(
        boss, f"/admin/users/{target}/password", password="a new secret", confirm="not the same"
    )
    assert refused.status_code == 400 and logged_in(ines)
    response = post(
        boss, f"/admin/users/{target}/password", password="a new secret", confirm="a new secret"
    )
    assert response.status_code == 302
    assert not logged_in(ines)
    assert not logged_in(log_in(app, "ines"))  # the old password
    assert logged_in(log_in(app, "ines", "a new secret"))
    assert logged_in(boss)  # someone else's password: the admin's own session goes on
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.password"))
        assert event.payload == {"username": "ines", "by": "boss"}


def test_a_user_changes_their_own_password(app, create_user) -> None:
    create_user("ines", "fieldworker")
    here, elsewhere = log_in(app, "ines"), log_in(app, "ines")
    wrong = post(
        here, "/account/password", current="not it", password="a new secret", confirm="a new secret"
    )
    assert wrong.status_code == 400
    assert "Le mot de passe actuel est faux." in wrong.get_data(as_text=True)
    assert logged_in(log_in(app, "ines"))  # unchanged
    done = post(
        here,
        "/account/password",
        current="correct horse",
        password="a new secret",
        confirm="a new secret",
    )
    assert done.status_code == 302
    assert logged_in(here)  # the session that changed it goes on
    assert not logged_in(elsewhere)
    assert logged_in(log_in(app, "ines", "a new secret"))
    assert not logged_in(log_in(app, "ines"))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_account_forms_need_their_token(app, boss) -> None:
    me = user(app, "boss").id
    for url in (
        "/admin/users/new",
        f"/admin/users/{me}",
        f"/admin/users/{me}/password",
        "/account/password",
    ):
        response = boss.post(
            url,
            data={
                "username": "x",
                "role": "admin",
                "password": "a long secret",
                "confirm": "a long secret",
                "current": "correct horse",
            },
        )
        assert response.status_code == 400, url
    assert user(app, "x") is None
