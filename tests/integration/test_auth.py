"""Login, logout, throttling, role checks and CSRF."""

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import AuditEvent, User

SAME_MESSAGE_FR = "Nom d’utilisateur inconnu ou mot de passe incorrect."


def test_login_page_is_french_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Connexion" in page


def test_login_then_home_then_logout(client, auth, create_user):
    create_user("ines", "fieldworker")
    response = auth.login("ines")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "ines" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get("/").status_code == 302  # back to the login page


def test_password_is_stored_hashed(app, create_user):
    create_user("ines", password="correct horse")
    with app.app_context():
        stored = db.session.scalar(sa.select(User.password_hash))
    assert "correct horse" not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_unknown_user_and_wrong_password_get_the_same_message(client, auth, create_user):
    create_user("ines")
    wrong_password = auth.login("ines", "wrong password").get_data(as_text=True)
    unknown_user = auth.login("nobody", "wrong password").get_data(as_text=True)
    assert SAME_MESSAGE_FR in wrong_password
    assert SAME_MESSAGE_FR in unknown_user


def test_repeated_failures_are_throttled_even_with_the_right_password(client, auth, create_user):
    create_user("ines")
    for _ in range(5):
        auth.login("ines", "wrong password")
    response = auth.login("ines", "correct horse")
    assert response.status_code == 429
    assert client.get("/").status_code == 302  # still not logged in


def test_login_is_recorded_in_audit_trail(app, auth, create_user):
    create_user("ines")
    auth.login("ines")
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "auth.login" in actions and "user.create" in actions


def test_next_parameter_cannot_leave_the_site(client, auth, create_user, get_csrf):
    create_user("ines")
    token = get_csrf("/login")
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": "ines", "password": "correct horse", "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_role_check_on_admin_page(client, auth, create_user):
    create_user("ines", "fieldworker")
    create_user("camille", "researcher")
    create_user("root", "admin")
    assert client.get("/admin/users").status_code == 302  # anonymous: to the login page
    auth.login("ines")
    assert client.get("/admin/users").status_code == 403
    auth.logout()
    auth.login("camille")
    assert client.get("/admin/users").status_code == 403
    auth.logout()
    auth.login("root")
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "camille" in page.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client, create_user):
    create_user("ines")
    response = client.post("/login", data={"username": "ines", "password": "correct horse"})
    assert response.status_code == 400
    assert "formulaire a expiré" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_language_switch_to_english(client, auth, create_user, get_csrf):
    create_user("ines")
    auth.login("ines")
    client.post("/language", data={"lang": "en", "csrf_token": get_csrf("/")})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Log out" in page


def test_error_pages_speak_french(client, auth, create_user):
    create_user("ines")
    auth.login("ines")
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "Page introuvable" in page.get_data(as_text=True)


def test_output_is_escaped(app, client, auth):
    from survey_app.auth.operations import create_user as create

    with app.app_context():
        create("evil", "admin", "correct horse", display_name="<script>alert(1)</script>")
        db.session.commit()
    auth.login("evil")
    page = client.get("/admin/users").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
