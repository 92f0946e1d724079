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


def _login_from(app, addr, username, password, headers=None):
    from milieu_testing import csrf_token

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        headers=headers or {},
    )


def test_failures_under_many_names_do_not_lock_out_an_address(app, create_user):
    create_user("ines")
    for n in range(30):  # a campus NAT: one address, many people mistyping
        assert _login_from(app, "10.0.0.7", f"someone{n}", "wrong").status_code == 200
    assert _login_from(app, "10.0.0.7", "ines", "correct horse").status_code == 302


def test_one_name_from_one_address_waits_longer_after_each_failure(app, create_user):
    from datetime import timedelta

    from survey_app.models import LoginAttempt

    create_user("ines")
    for _ in range(5):
        _login_from(app, "10.0.0.7", "ines", "wrong")
    refused = _login_from(app, "10.0.0.7", "ines", "correct horse")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 30
    assert "Réessayez dans" in refused.get_data(as_text=True)
    # the same name from another address is not held up by these five
    assert _login_from(app, "10.0.0.8", "ines", "correct horse").status_code == 302

    def age_attempts(seconds):
        with app.app_context():
            for row in db.session.scalars(sa.select(LoginAttempt)):
                row.attempted_dt -= timedelta(seconds=seconds)
            db.session.commit()

    age_attempts(31)  # the 30 s backoff is over: one more try is allowed
    assert _login_from(app, "10.0.0.7", "ines", "wrong").status_code == 200
    again = _login_from(app, "10.0.0.7", "ines", "correct horse")
    assert again.status_code == 429 and 30 < int(again.headers["Retry-After"]) <= 60


def test_one_name_from_many_addresses_is_throttled(app, create_user):
    create_user("ines")
    for n in range(20):
        _login_from(app, f"10.0.1.{n}", "ines", "wrong")
    assert _login_from(app, "10.0.2.1", "ines", "correct horse").status_code == 429


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(app, create_user):
    from survey_app.models import LoginAttempt

    create_user("ines")
    forged = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):
        _login_from(app, "10.0.0.7", "ines", "wrong", forged)
    with app.app_context():
        addrs = set(db.session.scalars(sa.select(LoginAttempt.remote_addr)))
    assert addrs == {"10.0.0.7"}
    assert _login_from(app, "10.0.0.7", "ines", "correct horse", forged).status_code == 429


def test_proxy_fix_takes_the_client_address_from_the_proxy(tmp_path, sqlite_database):
    from milieu_testing import make_app

    from survey_app.models import LoginAttempt

    url, _instance = sqlite_database
    app = make_app(url, tmp_path, PROXY_FIX_X_FOR=1)
    try:
        _login_from(app, "127.0.0.1", "nobody", "wrong", {"X-Forwarded-For": "203.0.113.9"})
        with app.app_context():
            addrs = set(db.session.scalars(sa.select(LoginAttempt.remote_addr)))
        assert addrs == {"203.0.113.9"}
    finally:
        with app.app_context():
            db.session.execute(sa.delete(LoginAttempt))
            db.session.commit()
            db.engine.dispose()


def test_pages_carry_security_headers(client, auth, create_user):
    create_user("ines")
    auth.login("ines")
    for url in ("/login", "/", "/static/js/interview.js"):
        response = client.get(url)
        headers = response.headers
        response.close()
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_no_template_runs_inline_script_or_style():
    """The policy forbids inline code: every script is a file under static/js."""
    import re
    from pathlib import Path

    import survey_app

    templates = Path(survey_app.__file__).parent / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (path.name, tag)
        assert not re.search(r"\son[a-z]+=|style=\"|<style", text), path.name


def test_logout_ends_the_session_on_the_server(app, client, auth, create_user):
    create_user("ines")
    auth.login("ines")
    assert client.get("/").status_code == 200
    copied = client.get_cookie("session").value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/").status_code == 302  # back to the login page
    auth.login("ines")  # logging in again works
    assert client.get("/").status_code == 200
