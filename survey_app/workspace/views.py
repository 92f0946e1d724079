"""Pages of the coding workspace: transcripts, coding view, codebook, models, matrix, saturation."""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from survey_app.auth.decorators import admin_required, researcher_required
from survey_app.codings.codebook_versions import current_codebook
from survey_app.codings.operations import open_rounds_of
from survey_app.core.job_queue import start_job
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import CodebookProposal, Job, ModelVersion, User
from survey_app.models.coding import FAMILIES
from survey_app.models.fieldwork import RESPONDENT_TYPES
from survey_app.models.territories import SIZE_BANDS
from survey_app.workspace import cases as cq
from survey_app.workspace import codebook_changes as changes
from survey_app.workspace import queries as q
from survey_app.workspace import retrieval as rq
from survey_app.workspace import saturation as sat
from survey_app.workspace.forms import ActionForm, ProposalForm
from survey_app.workspace.model_versions import activate, active_model_version


def _filters() -> dict:
    return {
        "respondent_type": request.args.get("respondent_type", ""),
        "territory_id": request.args.get("territory_id", type=bounded_int),
        "size_band": request.args.get("size_band", ""),
        "naf_section": request.args.get("naf_section", "").strip()[:2],
    }


def _filtered_cases() -> tuple[list[cq.Case], list[cq.Case], dict]:
    everything = cq.current_cases()
    filters = _filters()
    return everything, cq.filter_cases(everything, **filters), filters


@researcher_required
def home():
    everything, shown, filters = _filtered_cases()
    ids = [c.version.id for c in shown]
    own, pending = cq.coding_counts(current_user, ids)
    return render_template(
        "workspace/home.html",
        cases=shown,
        lengths=cq.text_lengths(ids),
        own=own,
        pending=pending,
        filters=filters,
        territories=cq.territories_of(everything),
        respondent_types=RESPONDENT_TYPES,
        size_bands=SIZE_BANDS,
    )


@researcher_required
def transcript(version_id: int):
    version = q.version_or_404(version_id)
    case = cq.case_for(version)
    blind = bool(open_rounds_of(current_user, version.id))
    codings = q.visible_codings(current_user, version.id)
    suggestions = [] if blind else q.visible_suggestions(current_user, version.id)
    newer = case.interview.transcripts[0].current
    return render_template(
        "workspace/transcript.html",
        version=version,
        case=case,
        turns=q.turn_segments(version) or [SimpleNamespace(start=0, end=len(version.text))],
        blind=blind,
        newer=newer if newer is not None and newer.id != version.id else None,
        codes=[q.code_json(c) for c in q.usable_codes()],
        codings=[q.coding_json(c, current_user) for c in codings],
        suggestions=[q.coding_json(c, current_user) for c in suggestions],
        focus=request.args.get("focus", type=bounded_int),
        select=_selection(request.args.get("select", ""), len(version.text)),
        lang=q.lang(),
    )


def _selection(value: str, length: int) -> list[int] | None:
    """A span to select on opening ("start-end", from a search hit), if it lies in the text."""
    start, _dash, end = value.partition("-")
    if not (start.isdigit() and end.isdigit()):
        return None
    span = [int(start), int(end)]
    return span if 0 <= span[0] < span[1] <= length else None


# --- codebook ------------------------------------------------------------------------------


def _proposal_form(version) -> ProposalForm:
    form = ProposalForm()
    entries = changes.code_entries(version.content) if version else {}
    usable = [k for k, (_f, e) in entries.items() if not e.get("retired")]
    form.code.choices = [("", "—")] + [(k, k) for k in usable]
    form.into.choices = [("", "—")] + [(k, k) for k in usable]
    families = version.content["families"] if version else {}
    form.family.choices = [("", "—")] + [(f, _family_label(f, fam)) for f, fam in families.items()]
    return form


@researcher_required
def codebook():
    version = current_codebook()
    form = _proposal_form(version)
    proposals = db.session.scalars(
        sa.select(CodebookProposal).order_by(CodebookProposal.proposed_dt.desc()).limit(100)
    ).all()
    users = {u.id: u for u in db.session.scalars(sa.select(User))}
    history = []
    node = version
    while node is not None and len(history) < 50:
        history.append(node)
        node = db.session.get(type(version), node.previous_id) if node.previous_id else None
    return render_template(
        "workspace/codebook.html",
        version=version,
        entries=changes.code_entries(version.content) if version else {},
        form=form,
        action_form=ActionForm(),
        proposals=proposals,
        users=users,
        history=history,
        lang=q.lang(),
    )


@researcher_required
def propose():
    version = current_codebook()
    form = _proposal_form(version)
    if not form.validate_on_submit():
        flash(_("The proposal is incomplete: choose a change and give a rationale."), "danger")
        return codebook(), 400
    try:
        changes.propose(form.kind.data, form.payload(), form.rationale.data, current_user)
    except changes.ProposalError as err:
        db.session.rollback()
        flash(err.message_en if q.lang() == "en" else err.message_fr, "danger")
        return codebook(), 400
    flash(_("Proposal recorded; an administrator will apply or decline it."), "success")
    return redirect(url_for("workspace.codebook"))


def _proposal_or_404(proposal_id: int) -> CodebookProposal:
    proposal = db.session.get(CodebookProposal, proposal_id)
    if proposal is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    return proposal


@admin_required
def apply_proposal(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    try:
        version = changes.apply(proposal, current_user)
    except changes.ProposalError as err:
        db.session.rollback()
        flash(err.message_en if q.lang() == "en" else err.message_fr, "danger")
        return redirect(url_for("workspace.codebook")), 303
    flash(_("Codebook version %(v)s created; codings carried over.", v=version.version), "success")
    return redirect(url_for("workspace.codebook"))


@admin_required
def decline_proposal(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    try:
        changes.decline(proposal, current_user)
    except changes.ProposalError as err:
        db.session.rollback()
        flash(err.message_en if q.lang() == "en" else err.message_fr, "danger")
        return redirect(url_for("workspace.codebook")), 303
    flash(_("Proposal declined."), "info")
    return redirect(url_for("workspace.codebook"))


# --- models ----------------------------------------------------------------------------------


#: the candidate models of coding.classifier.CANDIDATES, as researchers read them
CANDIDATE_LABELS = {
    "tfidf": _l("Lemma TF-IDF"),
    "vectors": _l("Word vectors"),
    "tfidf+vectors": _l("Lemma TF-IDF and word vectors"),
    "full": _l("Full (n-grams, vectors, keywords, per-code thresholds)"),
    "vectors+prior": _l("Word vectors and the cold-start model's scores"),
    "encoder": _l("Sentence encoder (multilingual-e5-small)"),
    "encoder+prior": _l("Sentence encoder and the cold-start model's scores"),
}
FAMILY_LABELS = {
    "GOVERNANCE": _l("governance"),
    "STRATEGY": _l("strategy"),
    "DYNAMICS": _l("dynamics"),
}


@researcher_required
def models():
    versions = db.session.scalars(sa.select(ModelVersion).order_by(ModelVersion.id.desc())).all()
    active = active_model_version()
    job = _own_job(request.args.get("job", type=bounded_int), "retrain")
    return render_template(
        "workspace/models.html",
        versions=versions,
        active=active,
        job=job,
        form=ActionForm(),
        candidate_labels=CANDIDATE_LABELS,
        families=list(FAMILY_LABELS),
        family_labels=FAMILY_LABELS,
    )


@researcher_required
def retrain():
    if not ActionForm().validate_on_submit():
        abort(400)
    job = start_job("retrain", {"folds": 5}, current_user)
    flash(_("Retraining started."), "info")
    return redirect(url_for("workspace.models", job=job.id))


@researcher_required
def activate_model(model_id: int):
    version = db.session.get(ModelVersion, model_id)
    if version is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    activate(version, current_user)
    flash(_("Model %(name)s is now used for suggestions.", name=version.name), "success")
    return redirect(url_for("workspace.models"))


def _own_job(job_id: int | None, kind: str) -> Job | None:
    job = db.session.get(Job, job_id) if job_id else None
    if job is None or job.kind != kind:
        return None
    if job.created_by_id != current_user.id and current_user.role != "admin":
        return None
    return job


@researcher_required
def next_segment():
    """Rank the uncoded turns in a job; show its progress, then the picks (or go to the first)."""
    go = bool(request.values.get("go"))
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        job = start_job("next", {"k": 10}, current_user)
        return redirect(url_for("workspace.next_segment", job=job.id, go=1 if go else None))
    job = _own_job(request.args.get("job", type=bounded_int), "next")
    picks = (job.result or {}).get("picks", []) if job is not None and job.status == "done" else []
    if go and picks:
        first = picks[0]
        return redirect(
            url_for("workspace.transcript", version_id=first["version_id"], focus=first["start"])
        )
    return render_template("workspace/next.html", job=job, picks=picks, go=go, form=ActionForm())


def _family_label(key: str, family: dict) -> str:
    """A code family as the interface names it (Gouvernance), its key when it has no label."""
    label = family.get("label") or {}
    return label.get(q.lang()) or label.get("fr") or key


def _family_labels() -> dict[str, str]:
    version = current_codebook()
    families = version.content.get("families", {}) if version else {}
    return {key: _family_label(key, fam) for key, fam in families.items()}


# --- matrix and saturation -------------------------------------------------------------------


@researcher_required
def matrix():
    everything, shown, filters = _filtered_cases()
    level = "family" if request.args.get("level") == "family" else "code"
    counts = sat.code_counts(current_user, shown, level)
    return render_template(
        "workspace/matrix.html",
        cases=shown,
        counts=counts,
        columns=sat.matrix_columns(counts),
        column_labels=_family_labels() if level == "family" else {},
        level=level,
        filters=filters,
        territories=cq.territories_of(everything),
        respondent_types=RESPONDENT_TYPES,
        size_bands=SIZE_BANDS,
    )


@researcher_required
def matrix_csv():
    """The matrix as CSV (one row per interview, attributes then one column per code)."""
    _everything, shown, _filters = _filtered_cases()
    level = "family" if request.args.get("level") == "family" else "code"
    counts = sat.code_counts(current_user, shown, level)
    columns = sat.matrix_columns(counts)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["case", "respondent_type", "territory", "naf_code", "size_band", "date", *columns]
    )
    for c in shown:
        row = counts[c.version.id]
        writer.writerow(
            [
                c.pseudonym,
                c.respondent_type,
                c.territory_name("commune"),
                c.naf_code or "",
                c.size_band or "",
                c.when or "",
                *[row.get(col, 0) for col in columns],
            ]
        )
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=case_{level}_matrix.csv"},
    )


@researcher_required
def saturation():
    level = request.args.get("level", "departement")
    if level not in cq.TERRITORY_LEVELS:
        level = "departement"
    cases = cq.current_cases()
    counts = sat.code_counts(current_user, cases)
    strata = sat.saturation(cases, counts, level)
    return render_template(
        "workspace/saturation.html",
        rows=[(s, sat.chart(s)) for s in strata],
        level=level,
        levels=cq.TERRITORY_LEVELS,
        minimum=sat.SATURATION_MIN,
    )


# --- retrieval -------------------------------------------------------------------------------


def _retrieval(cases: list | None = None):
    filters = rq.Filters.from_args(request.args)
    passages = rq.retrieve(current_user, filters, cases) if filters.code else []
    return filters, passages


@researcher_required
def retrieval():
    cases = cq.current_cases()
    filters, passages = _retrieval(cases)
    book = current_codebook()
    rounds = rq.rounds()
    return render_template(
        "workspace/retrieval.html",
        filters=filters,
        passages=passages[: rq.PAGE_LIMIT],
        total=len(passages),
        limit=rq.PAGE_LIMIT,
        codes=q.usable_codes() if book else [],
        families=FAMILIES,
        territories=cq.territories_of(cases),
        respondent_types=RESPONDENT_TYPES,
        coders=rq.coders(),
        rounds=rounds,
        round_names={r.id: r.name for r in rounds},
        sources=rq.SOURCES,
        label=q.label,
    )


@researcher_required
def retrieval_export(fmt: str):
    filters, passages = _retrieval()
    if not filters.code:
        flash(_("Choose a code or a family first."), "danger")
        return redirect(url_for("workspace.retrieval"))
    rows = rq.export_rows(passages, q.label)
    name = "passages_" + "".join(ch if ch.isalnum() else "_" for ch in filters.code)
    if fmt == "xlsx":
        return Response(
            rq.to_xlsx(rows),
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f"attachment; filename={name}.xlsx"},
        )
    return Response(
        rq.to_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}.csv"},
    )
