"""Milieu's web application: fieldwork entry, coding workspace, review, exports, admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # importing the package must stay cheap: the CLI imports it
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, instance config, MILIEU_* variables, test overrides."""
    from flask import Flask

    from survey_app import assembly

    app = Flask(__name__, instance_path=assembly.instance_path(), instance_relative_config=True)
    assembly.init_config(app, test_config)
    assembly.init_proxy(app)
    assembly.init_database(app)
    assembly.init_extensions(app)
    assembly.init_i18n(app)
    assembly.init_jobs(app)
    assembly.init_transactions(app)
    assembly.init_security_headers(app)
    assembly.init_errors(app)
    assembly.init_blueprints(app)
    return app
