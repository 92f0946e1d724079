"""Milieu's web application: fieldwork entry, coding workspace, review, exports, admin."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, instance config, MILIEU_* variables, test overrides."""
    from survey_app import settings

    app = Flask(__name__, instance_path=settings.instance_path(), instance_relative_config=True)
    settings.init_config(app, test_config)
    settings.init_database(app)
    settings.init_extensions(app)
    settings.init_i18n(app)
    settings.init_jobs(app)
    settings.init_transactions(app)
    settings.init_errors(app)
    settings.init_blueprints(app)
    return app
