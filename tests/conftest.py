"""Shared fixtures: an app on each database backend, users, a logged-in client."""

from __future__ import annotations

from pathlib import Path

import pytest
from milieu_testing import (
    csrf_token,
    make_app,
    postgres_url_or_skip,
    scratch_postgres_database,
    upgrade,
)


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory) -> tuple[str, Path]:
    instance = tmp_path_factory.mktemp("instance-sqlite")
    url = "sqlite:///" + str(instance / "milieu.sqlite")
    upgrade(make_app(url, instance))
    return url, instance


@pytest.fixture(scope="session")
def postgres_database(tmp_path_factory):
    with scratch_postgres_database(postgres_url_or_skip()) as url:
        instance = tmp_path_factory.mktemp("instance-postgres")
        upgrade(make_app(url, instance))
        yield url, instance


def _empty_tables(app) -> None:
    from survey_app.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t for t in db.metadata.sorted_tables]
        # DELETE beats TRUNCATE by far on a handful of rows (PostgreSQL's TRUNCATE of every
        # table costs about half a second per test)
        with db.engine.begin() as conn:
            for table in reversed(tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(request, backend):
    """A migrated, empty database on `backend`, emptied again after the test."""
    url, instance = request.getfixturevalue(f"{backend}_database")
    application = make_app(url, instance)
    yield application
    _empty_tables(application)


@pytest.fixture
def sqlite_app(sqlite_database):
    """The app on SQLite only, for tests that are about SQLite itself."""
    url, instance = sqlite_database
    application = make_app(url, instance)
    yield application
    _empty_tables(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app):
    """Factory: create_user(username, role="fieldworker", password="correct horse")."""
    from survey_app.auth.operations import create_user as create
    from survey_app.extensions import db

    def factory(username: str, role: str = "fieldworker", password: str = "correct horse"):
        with app.app_context():
            user = create(username, role, password)
            db.session.commit()
            return user.id

    return factory


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = "correct horse"):
        token = csrf_token(self.client, "/login")
        return self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )

    def logout(self):
        token = csrf_token(self.client, "/")
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def get_csrf(client):
    """get_csrf(url) loads a page and returns its form's CSRF token."""
    return lambda url: csrf_token(client, url)
