"""Factory and configuration layering."""

import sqlalchemy as sa

from survey_app import create_app
from survey_app.extensions import db


def test_defaults_then_instance_then_environment_then_test(tmp_path, monkeypatch):
    monkeypatch.setenv("MILIEU_INSTANCE_PATH", str(tmp_path))
    (tmp_path / "config.py").write_text(
        "LOGIN_MAX_FAILURES = 9\nBABEL_DEFAULT_LOCALE = 'en'\nMAX_CONTENT_LENGTH = 1000\n"
    )
    monkeypatch.setenv("MILIEU_LOGIN_MAX_FAILURES", "7")
    monkeypatch.setenv("MILIEU_MAX_CONTENT_LENGTH", "2000")
    app = create_app({"MAX_CONTENT_LENGTH": 3000})
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600  # default kept
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"  # instance file over default
    assert app.config["LOGIN_MAX_FAILURES"] == 7  # environment over instance file
    assert app.config["MAX_CONTENT_LENGTH"] == 3000  # test config over everything


def test_database_url_from_environment_uses_psycopg3(tmp_path, monkeypatch):
    monkeypatch.setenv("MILIEU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("MILIEU_DATABASE_URL", "postgresql://someone@db.example/milieu")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/milieu"


def test_default_database_is_sqlite_in_instance_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("MILIEU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("MILIEU_DATABASE_URL", raising=False)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'milieu.sqlite'}"


def test_secret_key_is_created_once_and_private(tmp_path, monkeypatch):
    monkeypatch.setenv("MILIEU_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("MILIEU_SECRET_KEY", raising=False)
    first = create_app().config["SECRET_KEY"]
    assert len(first) == 64
    assert create_app().config["SECRET_KEY"] == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
