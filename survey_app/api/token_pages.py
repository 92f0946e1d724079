"""The API-token pages: each user creates and revokes their own tokens (session login, CSRF)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from survey_app.api.forms import RevokeForm, TokenForm
from survey_app.api.tokens import create_token, revoke_token, tokens_of
from survey_app.auth.decorators import staff_required
from survey_app.extensions import db
from survey_app.models import ApiToken


@staff_required
def tokens():
    form, revoke = TokenForm(), RevokeForm()
    new_token = None
    if form.validate_on_submit():
        _row, new_token = create_token(current_user, form.name.data)
        form.name.data = ""
    status = 400 if form.is_submitted() and new_token is None else 200
    page = render_template(
        "api/tokens.html",
        form=form,
        revoke=revoke,
        tokens=tokens_of(current_user),
        new_token=new_token,
    )
    # the one page that shows a secret: keep it out of every cache
    return page, status, {"Cache-Control": "no-store"}


@staff_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not RevokeForm().validate_on_submit():
        abort(400)
    revoke_token(token, current_user)
    flash(_("Token “%(name)s” revoked.", name=token.name), "success")
    return redirect(url_for("tokens.tokens"))
