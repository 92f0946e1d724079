from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from survey_app.auth.forms import LoginForm, OwnPasswordForm
from survey_app.auth.operations import (
    UserError,
    authenticate,
    change_own_password,
    end_sessions,
    throttle_wait,
)
from survey_app.core.labels import lang


def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        addr = request.remote_addr
        wait = throttle_wait(form.username.data.strip().lower(), addr)
        if wait:
            flash(
                _(
                    "Too many failed attempts for this name. Try again in %(seconds)d seconds.",
                    seconds=wait,
                ),
                "danger",
            )
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}
        else:
            user = authenticate(form.username.data, form.password.data, addr)
            if user is not None:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            # the same message whether the name or the password is wrong
            flash(_("Unknown user name or wrong password."), "danger")
            # keep the failed attempt: a 4xx status would roll it back
            status = 200
    return render_template("auth/login.html", form=form), status


def logout():
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@login_required
def password():
    form = OwnPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            me = current_user._get_current_object()
            change_own_password(me, form.current.data, form.password.data)
        except UserError as err:
            flash(err.message(lang()), "danger")
            status = 400
        else:
            # the new password ended every session of the account: this one starts again
            login_user(me)
            flash(_("Your password is changed; your other sessions are closed."), "success")
            return redirect(url_for("core.index"))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status


def _safe_next(target: str | None) -> str:
    """Follow ?next= only within this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("core.index")
