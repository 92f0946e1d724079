import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey_app.admin.forms import EditUserForm, NewUserForm, PasswordResetForm
from survey_app.auth import operations as accounts
from survey_app.auth.decorators import admin_required
from survey_app.codings.operations import blind_transcript_ids
from survey_app.core.labels import lang
from survey_app.core.paging import page_number
from survey_app.extensions import db
from survey_app.models import AuditEvent, User


@admin_required
def users():
    rows = db.session.scalars(sa.select(User).order_by(User.role, User.username)).all()
    return render_template("admin/users.html", users=rows)


@admin_required
def new_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                form.username.data, form.role.data, form.password.data, form.display_name.data
            )
        except accounts.UserError as err:
            flash(err.message(lang()), "danger")
            return render_template("admin/user_new.html", form=form), 400
        flash(_("Account “%(name)s” created.", name=user.username), "success")
        return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_new.html", form=form), status


@admin_required
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = EditUserForm(obj=user) if request.method == "GET" else EditUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            changed = accounts.update_user(
                user,
                current_user._get_current_object(),
                display_name=form.display_name.data or "",
                role=form.role.data,
                is_enabled=form.is_enabled.data,
            )
        except accounts.UserError as err:
            flash(err.message(lang()), "danger")
            status = 400
        else:
            flash(_("Account saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    elif form.is_submitted():
        status = 400
    return render_template(
        "admin/user_edit.html", user=user, form=form, password_form=PasswordResetForm()
    ), status


@admin_required
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.set_password(user, form.password.data, current_user._get_current_object())
        except accounts.UserError as err:
            flash(err.message(lang()), "danger")
        else:
            flash(_("New password set; the account's open sessions are closed."), "success")
            return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template(
        "admin/user_edit.html", user=user, form=EditUserForm(obj=user), password_form=form
    ), 400


@admin_required
def audit():
    page = page_number()
    stmt = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    events = db.paginate(stmt, page=page, per_page=50, error_out=False)
    me = current_user._get_current_object()
    return render_template("admin/audit.html", events=events, hidden=blinded_events(events, me))


def blinded_events(events, user: User) -> set[int]:
    """Ids of the events whose details a coder in an open blind round may not see.

    The blind rule holds here too: an admin coding a transcript in an open round must not
    read the other coders' codings (spans, codes, memos) in the audit trail.
    """
    blind = blind_transcript_ids(user)
    if not blind:
        return set()
    return {
        e.id
        for e in events.items
        if e.user_id != user.id
        and isinstance(e.payload, dict)
        and _transcript_of(e.payload) in blind
    }


def _transcript_of(payload: dict) -> object:
    if "transcript_version" in payload:
        return payload["transcript_version"]
    after = payload.get("after")
    return after.get("transcript_version") if isinstance(after, dict) else None
