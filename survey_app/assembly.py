"""The pieces create_app assembles, each an init_* function."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey_app import config as defaults
from survey_app.core.labels import (
    JOB_STATUS_LABELS,
    KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    lang,
)
from survey_app.extensions import babel, csrf, db, login_manager, migrate


def instance_path() -> str:
    """Return the instance folder: MILIEU_INSTANCE_PATH, else Flask's default beside the code."""
    path = os.environ.get("MILIEU_INSTANCE_PATH")
    return (
        str(Path(path).resolve())
        if path
        else str(Path(__file__).resolve().parent.parent / "instance")
    )


def migrations_directory() -> str:
    """Return the Alembic folder, installed as the milieu_migrations package."""
    from importlib.resources import files

    return str(files("milieu_migrations"))


def init_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("MILIEU")
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if not url:
        url = "sqlite:///" + str(Path(app.instance_path) / "milieu.sqlite")
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(url)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def init_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* from PROXY_FIX_X_FOR proxies (a reverse proxy in front), else none."""
    hops = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for postgres URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret_key(folder: Path) -> str:
    """Read the instance's secret key, creating it (readable by the owner only) on first run."""
    path = folder / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def init_database(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            sa.event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def init_extensions(app: Flask) -> None:
    migrate.init_app(app, db, directory=migrations_directory(), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "warning"
    # Flask-Login's own notice is English; this one is translated when it is flashed
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.localize_callback = str
    from survey_app.auth.operations import load_user

    login_manager.user_loader(load_user)


def select_locale() -> str:
    """Pick the interface language: the user's choice, the session's, else French."""
    languages = defaults.LANGUAGES
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return "fr"


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def inject_locale() -> dict[str, Any]:
        return {
            "current_locale": lang(),
            "languages": defaults.LANGUAGES,
            "role_labels": ROLE_LABELS,
            "status_labels": STATUS_LABELS,
            "kind_labels": KIND_LABELS,
            "job_status_labels": JOB_STATUS_LABELS,
        }


def init_security_headers(app: Flask) -> None:
    """Headers every response carries: no sniffing, no framing, no referrer to other sites,
    and on pages a Content-Security-Policy allowing this site's own scripts and styles only."""

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", app.config["CONTENT_SECURITY_POLICY"])
        return response


def init_transactions(app: Flask) -> None:
    """One commit per request: services only flush, the request commits or rolls back."""
    from survey_app.core.job_queue import enqueue_pending

    @app.after_request
    def commit_session(response):
        # a refusal rolls back, unless the view saved part of it on purpose (commit_partial:
        # the valid answers of a section kept, the invalid ones sent back with a 422)
        refused = response.status_code >= 400 and not getattr(g, "commit_partial", False)
        if getattr(g, "rollback_only", False) or refused:
            db.session.rollback()
        else:
            db.session.commit()
            enqueue_pending()
        return response

    @app.teardown_request
    def rollback_on_error(exc):
        if exc is not None:
            db.session.rollback()


def init_jobs(app: Flask) -> None:
    from survey_app.core import job_queue as jobs
    from survey_app.exports import jobs as _export_jobs  # noqa: F401  (registers job kinds)
    from survey_app.profiles import operations as _profile_jobs  # noqa: F401
    from survey_app.rounds import agreement as _round_jobs  # noqa: F401
    from survey_app.workspace import jobs as _coding_jobs  # noqa: F401

    jobs.init_jobs(app)


def init_errors(app: Flask) -> None:
    from survey_app.core.errors import register_error_handlers

    register_error_handlers(app)


def init_blueprints(app: Flask) -> None:
    from survey_app.core.paging import BoundedIntConverter

    # before any rule is added: <int:...> refuses ids no INTEGER column holds (a 404)
    app.url_map.converters["int"] = BoundedIntConverter
    from survey_app.admin.blueprint import bp as admin_bp
    from survey_app.api.blueprint import bp as api_bp
    from survey_app.api.blueprint import tokens_bp
    from survey_app.auth.blueprint import bp as auth_bp
    from survey_app.core.blueprint import bp as core_bp
    from survey_app.exports.blueprint import bp as exports_bp
    from survey_app.fieldwork.blueprint import bp as fieldwork_bp
    from survey_app.profiles.blueprint import bp as profiles_bp
    from survey_app.rounds.blueprint import bp as rounds_bp
    from survey_app.transcripts.blueprint import bp as transcripts_bp
    from survey_app.workspace.blueprint import bp as workspace_bp

    blueprints = (
        core_bp,
        auth_bp,
        admin_bp,
        fieldwork_bp,
        workspace_bp,
        rounds_bp,
        exports_bp,
        api_bp,
        tokens_bp,
        profiles_bp,
        transcripts_bp,
    )
    for bp in blueprints:
        app.register_blueprint(bp)


def request_addr() -> str | None:
    """Return the client address (the WSGI server's view; no proxy headers trusted)."""
    return request.remote_addr if request else None
