from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from survey_app import config
from survey_app.core.dashboard import dashboard
from survey_app.core.labels import count_label, status_count_label
from survey_app.extensions import db


@login_required
def index():
    return render_template(
        "core/index.html",
        data=dashboard(current_user),
        status_count_label=status_count_label,
        count_label=count_label,
    )


def set_language():
    """Switch the interface language (a form, so it carries a CSRF token)."""
    lang = request.form.get("lang", "")
    if lang not in config.LANGUAGES:
        abort(400)
    session["lang"] = lang
    if current_user.is_authenticated:
        current_user.locale = lang
        db.session.flush()
    return redirect(request.referrer or url_for("core.index"))
