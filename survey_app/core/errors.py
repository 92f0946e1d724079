"""Error pages in the interface language."""

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from survey_app.extensions import db


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Access denied"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("This page does not exist or is not available to you.")),
        405: (_("Method not allowed"), _("This action is not allowed here.")),
        409: (_("Conflict"), _("Someone else changed this in the meantime.")),
        413: (_("File too large"), _("The file is larger than the allowed size.")),
        429: (_("Too many requests"), _("Wait a moment before trying again.")),
        500: (_("Server error"), _("Something went wrong on our side. Nothing was saved.")),
    }


def json_error(status: int, message: str, **headers: str):
    """Return a JSON error body {"error": {"status", "message"}} with `status`."""
    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    response.headers.update(headers)
    return response


def _api_request() -> bool:
    """True for URLs under /api, whose clients read JSON even when no route matched."""
    return request.path == "/api" or request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None):
    title, text = _messages().get(code, (str(code), ""))
    if _api_request():
        return json_error(code, detail or title)
    return render_template("errors/error.html", code=code, title=title, text=detail or text), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(err: CSRFError):
        message = _(
            "The form has expired or was not sent from this site. Reload the page and try again."
        )
        return render_error(400, message)

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        # API clients get the exception's own description; pages show the generic text
        return render_error(err.code or 500, err.description if _api_request() else None)

    @app.errorhandler(StaleDataError)
    def stale_data(err: StaleDataError):
        # two requests saved the same row version at once; the later one lost
        db.session.rollback()
        return render_error(
            409, _("Someone else saved this in the meantime: reload the page and try again.")
        )

    @app.errorhandler(Exception)
    def server_error(err: Exception):
        app.logger.exception("unhandled error")
        return render_error(500)
