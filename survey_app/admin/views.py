import sqlalchemy as sa
from flask import render_template, request

from survey_app.auth.decorators import admin_required
from survey_app.extensions import db
from survey_app.models import AuditEvent, User


@admin_required
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows)


@admin_required
def audit():
    page = max(request.args.get("page", 1, type=int), 1)
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    events = db.paginate(stmt, page=page, per_page=50, error_out=False)
    return render_template("admin/audit.html", events=events)
