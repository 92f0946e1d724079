"""Blind double-coding rounds: list, creation, coder view, agreement, reconciliation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from survey_app.api.auth import token_required
from survey_app.auth.decorators import researcher_required
from survey_app.codings.codebook_versions import current_codebook
from survey_app.core.labels import lang
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import CodingRound, TranscriptVersion, User
from survey_app.rounds import agreement as agreement_svc
from survey_app.rounds import lifecycle as svc
from survey_app.rounds import queries
from survey_app.rounds import reconciliation as reconciliation_svc
from survey_app.rounds.forms import DecisionForm, DoneForm, NewRoundForm, RoundActionForm


def researcher_or_token(view: Callable) -> Callable:
    """Researchers by session, or scripts by API token (Authorization: Bearer ...)."""
    by_session = researcher_required(view)
    by_token = token_required(*svc.CODER_ROLES)(view)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any):
        if request.headers.get("Authorization"):
            return by_token(*args, **kwargs)
        return by_session(*args, **kwargs)

    return wrapped


def acting_user() -> User:
    """The user of this request: the token's owner for scripts, else the logged-in user."""
    return g.get("api_user") or current_user


def coding_url(transcript_version_id: int) -> str:
    """Link to the workspace's coding page (part of another package, built separately)."""
    try:
        return url_for("workspace.transcript", version_id=transcript_version_id)
    except BuildError:  # the workspace is not mounted: its documented URL pattern
        return f"/coding/transcripts/{transcript_version_id}"


def _round(round_id: int) -> CodingRound:
    rnd = db.session.get(CodingRound, round_id)
    if rnd is None:
        abort(404)
    return rnd


def _n_boot() -> int:
    return int(current_app.config.get("ROUNDS_BOOTSTRAP", 1000))


def _refused(err: svc.RoundError, target: str, **values):
    """Undo the request's changes, show why, and send the user back."""
    db.session.rollback()
    flash(err.message(lang()), "danger")
    return redirect(url_for(target, **values))


# --- list and creation ---------------------------------------------------------------------


@researcher_required
def rounds():
    covered, total = svc.double_coded_share()
    return render_template(
        "rounds/list.html",
        rounds=svc.all_rounds(),
        covered=covered,
        total=total,
        target=svc.DOUBLE_CODED_TARGET,
        mine={r.id for r in svc.all_rounds() if svc.is_coder(r, current_user)},
    )


@researcher_required
def new_round():
    form = NewRoundForm()
    filters = queries.transcript_filters(request.args)
    versions = queries.filtered_versions(filters)
    coders = queries.possible_coders()
    codebook = current_codebook()
    chosen_tv = set(request.form.getlist("transcripts", type=bounded_int))
    chosen_coders = set(request.form.getlist("coders", type=bounded_int)) or {current_user.id}
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                rnd = svc.create_round(
                    current_user,
                    form.name.data,
                    [db.session.get(TranscriptVersion, i) for i in chosen_tv],
                    [db.session.get(User, i) for i in chosen_coders],
                    codebook,
                )
            except svc.RoundError as err:
                db.session.rollback()
                flash(err.message(lang()), "danger")
            else:
                flash(_("Round “%(name)s” opened.", name=rnd.name), "success")
                _warn_earlier(rnd)
                _warn_coverage()
                return redirect(url_for("rounds.round_page", round_id=rnd.id))
    covered, total = svc.double_coded_share()
    return render_template(
        "rounds/new.html",
        form=form,
        versions=versions,
        lengths=svc.text_lengths(tv.id for tv in versions),
        filters=filters,
        coders=coders,
        codebook=codebook,
        chosen_tv=chosen_tv,
        chosen_coders=chosen_coders,
        in_rounds=svc.rounds_of_transcripts(),
        covered=covered,
        total=total,
        target=svc.DOUBLE_CODED_TARGET,
    ), status


def _warn_earlier(rnd: CodingRound) -> None:
    earlier = svc.earlier_codings(rnd)
    if earlier:
        flash(
            _(
                "Some coders already coded these transcripts outside the round (%(who)s): "
                "those codings stay visible to their author but do not count in the round.",
                who=", ".join(f"{name}: {n}" for name, n in sorted(earlier.items())),
            ),
            "warning",
        )


def _warn_coverage() -> None:
    covered, total = svc.double_coded_share()
    if total and covered / total < svc.DOUBLE_CODED_TARGET:
        flash(
            _(
                "Only %(covered)d of %(total)d transcripts are in double-coding rounds; "
                "at least 20%% should be.",
                covered=covered,
                total=total,
            ),
            "warning",
        )


# --- one round: coder view and "done" -----------------------------------------------------


@researcher_required
def round_page(round_id: int):
    rnd = _round(round_id)
    coder = svc.is_coder(rnd, current_user)
    done = svc.done_dates(rnd)
    # the blind rule: while open, only a coder's own counts are shown, and only to them
    progress = svc.own_progress(rnd, current_user) if coder else {}
    counts = svc.counts_by_coder(rnd)
    disagreements = (
        [i for i in reconciliation_svc.reconciliation_items(rnd) if not i.agreed]
        if rnd.status != "open"
        else []
    )
    return render_template(
        "rounds/round.html",
        n_disagreements=len(disagreements),
        n_decided=sum(1 for i in disagreements if i.decision is not None),
        round=rnd,
        is_coder=coder,
        done=done,
        my_done=done.get(current_user.id),
        progress=progress,
        counts=counts,
        action_form=RoundActionForm(version=rnd.version),
        done_form=DoneForm(version=rnd.version),
        coding_url=coding_url,
        codebook=queries.codebook_of(rnd),
    )


@researcher_required
def done(round_id: int):
    rnd = _round(round_id)
    form = DoneForm()
    if not form.validate_on_submit():
        db.session.rollback()
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(url_for("rounds.round_page", round_id=rnd.id))
    try:
        closed = svc.mark_done(rnd, current_user)
    except svc.RoundError as err:
        return _refused(err, "rounds.round_page", round_id=rnd.id)
    if closed:
        flash(
            _("Every coder is done: the round is closed and its agreement can be read."), "success"
        )
    else:
        flash(_("Your part is marked done. You can undo this while the round is open."), "success")
    return redirect(url_for("rounds.round_page", round_id=rnd.id))


@researcher_required
def undo(round_id: int):
    rnd = _round(round_id)
    form = RoundActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        svc.undo_done(rnd, current_user)
    except svc.RoundError as err:
        return _refused(err, "rounds.round_page", round_id=rnd.id)
    flash(_("Your part is open again."), "info")
    return redirect(url_for("rounds.round_page", round_id=rnd.id))


# --- agreement ---------------------------------------------------------------------------


def _agreement_args() -> tuple[str, bool]:
    level = request.args.get("level", "unit")
    if level not in agreement_svc.LEVELS:
        abort(400)
    return level, request.args.get("exclude_uncoded") in ("1", "true", "on", "yes")


def _agreement_job(rnd: CodingRound):
    """The job holding this page's figures (started on first view), or a refusal."""
    level, exclude = _agreement_args()
    retry = request.args.get("retry") == "1"
    job = agreement_svc.request_agreement(rnd, acting_user(), level, exclude, _n_boot(), retry)
    return job, level, exclude


@researcher_required
def agreement_page(round_id: int):
    rnd = _round(round_id)
    try:
        job, level, exclude = _agreement_job(rnd)
    except svc.RoundError as err:
        flash(err.message(lang()), "warning")
        return redirect(url_for("rounds.round_page", round_id=rnd.id))
    if job.status != "done":
        return render_template(
            "rounds/agreement_wait.html", round=rnd, job=job, level=level, exclude=exclude
        )
    return render_template(
        "rounds/agreement.html",
        round=rnd,
        report=job.result,
        level=level,
        exclude=exclude,
        labels=queries.code_labels(rnd, lang()),
    )


@researcher_or_token
def agreement_json(round_id: int):
    """Figures for scripts; 202 with the job's progress while they are being computed."""
    rnd = _round(round_id)
    try:
        job, _level, _exclude = _agreement_job(rnd)
    except svc.RoundError as err:
        return jsonify(ok=False, status=rnd.status, message=err.message(lang())), 409
    if job.status == "failed":
        return jsonify(ok=False, status="failed", job=job.id, message=job.error), 500
    if job.status != "done":
        body = {"ok": False, "status": "computing", "job": job.id, "progress": job.progress}
        return jsonify(body), 202, {"Retry-After": "2"}
    return jsonify(ok=True, **job.result)


# --- reconciliation ----------------------------------------------------------------------


@researcher_required
def reconcile(round_id: int):
    rnd = _round(round_id)
    if rnd.status == "open":
        flash(
            _("The round is still open: reconciliation starts once every coder is done."), "warning"
        )
        return redirect(url_for("rounds.round_page", round_id=rnd.id))
    return _render_reconcile(rnd)


def _render_reconcile(rnd: CodingRound, status: int = 200):
    try:  # who coded what must stay hidden from anyone still coding these texts blind
        reconciliation_svc.check_not_blind(rnd, current_user)
    except svc.RoundError as err:
        db.session.rollback()
        flash(err.message(lang()), "warning")
        return redirect(url_for("rounds.round_page", round_id=rnd.id))
    items = reconciliation_svc.reconciliation_items(rnd)
    shown = _reconcile_filters()
    disagreements = [i for i in items if not i.agreed]
    return render_template(
        "rounds/reconcile.html",
        round=rnd,
        disagreements=[
            i
            for i in disagreements
            if (not shown["code"] or i.code == shown["code"])
            and not (shown["pending"] and i.decision is not None)
        ],
        n_disagreements=len(disagreements),
        disagreement_codes=sorted({i.code for i in disagreements}),
        shown=shown,
        agreements=[i for i in items if i.agreed],
        pending_agreements=sum(1 for i in items if i.agreed and i.decision is None),
        open_left=sum(1 for i in items if not i.agreed and i.decision is None),
        texts=queries.turn_texts(rnd),
        labels=queries.code_labels(rnd, lang()),
        users=queries.user_names(),
        highlight=queries.highlight,
        action_form=RoundActionForm(version=rnd.version),
        decision_form=DecisionForm,
    ), status


def _reconcile_filters() -> dict[str, str]:
    """Which disagreements to list: one code, and/or only those without a decision."""
    return {
        "code": (request.args.get("code") or "")[:32],
        "pending": "1" if request.args.get("pending") == "1" else "",
    }


def _back_to_reconcile(rnd: CodingRound):
    args = {k: v for k, v in _reconcile_filters().items() if v}
    return redirect(url_for("rounds.reconcile", round_id=rnd.id, **args) + "#disagreements")


@researcher_required
def decision(round_id: int):
    rnd = _round(round_id)
    form = DecisionForm()
    if not form.validate_on_submit():
        db.session.rollback()
        flash(_("Choose keep or drop for this disagreement."), "danger")
        return _render_reconcile(rnd, 400)
    try:
        reconciliation_svc.decide(
            rnd,
            current_user,
            int(form.version.data),
            int(form.transcript_version_id.data),
            int(form.start.data),
            int(form.end.data),
            form.code.data,
            form.decision.data,
            form.rationale.data or "",
        )
    except (svc.RoundError, ValueError) as err:
        db.session.rollback()
        db.session.refresh(rnd)
        stale = isinstance(err, svc.StaleRound)
        message = err.message(lang()) if isinstance(err, svc.RoundError) else str(err)
        flash(message, "danger")
        return _render_reconcile(rnd, 409 if stale else 400)
    flash(_("Decision recorded."), "success")
    return _back_to_reconcile(rnd)


@researcher_required
def accept(round_id: int):
    rnd = _round(round_id)
    form = RoundActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        n = reconciliation_svc.accept_agreements(rnd, current_user, int(form.version.data))
    except svc.RoundError as err:
        db.session.rollback()
        db.session.refresh(rnd)
        flash(err.message(lang()), "danger")
        return _render_reconcile(rnd, 409 if isinstance(err, svc.StaleRound) else 400)
    flash(_("%(n)d agreements kept as consensus codings.", n=n), "success")
    return redirect(url_for("rounds.reconcile", round_id=rnd.id))


@researcher_required
def reconciled(round_id: int):
    rnd = _round(round_id)
    form = RoundActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        reconciliation_svc.mark_reconciled(rnd, current_user, int(form.version.data))
    except svc.RoundError as err:
        db.session.rollback()
        db.session.refresh(rnd)
        flash(err.message(lang()), "danger")
        return _render_reconcile(rnd, 409 if isinstance(err, svc.StaleRound) else 400)
    flash(_("The round is reconciled."), "success")
    return redirect(url_for("rounds.round_page", round_id=rnd.id))
