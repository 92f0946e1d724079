"""Fieldwork pages: organisations, interviews section by section, review, transcripts."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from analysis.typology import load_typology
from survey_app.auth.decorators import researcher_required, staff_required
from survey_app.core.labels import lang
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.fieldwork import queries
from survey_app.fieldwork.forms import (
    NewInterviewForm,
    OrganisationForm,
    ReviewForm,
    TranscriptForm,
    VersionedForm,
)
from survey_app.instruments.answers import consent_given, visible_questions
from survey_app.instruments.forms import (
    apply_answer_errors,
    build_section_form,
    form_answers,
    form_data,
)
from survey_app.models import InstrumentVersion, Interview, Organisation, Territory
from survey_app.models.fieldwork import INTERVIEW_STATUSES
from survey_app.models.territories import SIZE_BANDS
from survey_app.transcripts.isolated import limits_from, read_upload_isolated
from survey_app.transcripts.readers import TranscriptFileError

# --- organisations -----------------------------------------------------------------------------


@staff_required
def organisations():
    rows = queries.organisations_for_choice()
    return render_template("fieldwork/organisations.html", organisations=rows)


@staff_required
def new_organisation():
    form = OrganisationForm()
    form.territory_id.choices = [
        SelectChoice(t.id, f"{t.name} ({t.code})") for t in queries.communes()
    ]
    form.size_band.choices = [SelectChoice("", "—"), *[SelectChoice(b, b) for b in SIZE_BANDS]]
    form.relay_category.choices = [
        SelectChoice("", "—"),
        *[SelectChoice(c.key, c.label.get(lang(), c.key)) for c in load_typology().categories],
    ]
    if form.validate_on_submit():
        sme = form.kind.data == "sme"
        org = ops.create_organisation(
            current_user,
            kind=form.kind.data,
            name=form.name.data.strip(),
            territory=db.session.get(Territory, form.territory_id.data),
            siret=form.siret.data or None,
            naf_code=(form.naf_code.data or None) if sme else None,
            size_band=(form.size_band.data or None) if sme else None,
            export_share=float(form.export_share.data) / 100
            if sme and form.export_share.data is not None
            else None,
            relay_category=None if sme else (form.relay_category.data or None),
        )
        flash(_("Organisation %(code)s added.", code=org.pseudonym), "success")
        return redirect(url_for("fieldwork.new_interview", organisation=org.id))
    return render_template("fieldwork/organisation_form.html", form=form)


# --- interviews ----------------------------------------------------------------------------------


@staff_required
def interviews():
    status = request.args.get("status")
    stmt = queries.interviews_visible_to(current_user)
    if status in INTERVIEW_STATUSES:
        stmt = stmt.where(Interview.status == status)
    rows = db.session.scalars(stmt).all()
    return render_template("fieldwork/interviews.html", interviews=rows, status=status)


@staff_required
def new_interview():
    form = NewInterviewForm()
    versions = ops.current_instrument_versions()
    form.instrument_version_id.choices = [
        SelectChoice(v.id, f"{v.title_fr if lang() == 'fr' else v.title_en} (v{v.version})")
        for v in versions
    ]
    form.organisation_id.choices = [
        SelectChoice(o.id, f"{o.name} ({o.pseudonym})") for o in queries.organisations_for_choice()
    ]
    if request.method == "GET" and request.args.get("organisation", type=int):
        form.organisation_id.data = request.args.get("organisation", type=int)
    if form.validate_on_submit():
        try:
            interview = ops.create_interview(
                current_user,
                db.session.get(InstrumentVersion, form.instrument_version_id.data),
                db.session.get(Organisation, form.organisation_id.data),
                form.interview_date.data,
                form.place.data or "",
                form.respondent_role.data or "",
            )
        except ops.FieldworkError as err:
            flash(err.message(lang()), "danger")
        else:
            first = ops.instrument_of(interview.instrument_version).sections[0].key
            return redirect(url_for("fieldwork.section", interview_id=interview.id, key=first))
    return render_template(
        "fieldwork/new_interview.html", form=form, has_instruments=bool(versions)
    )


@staff_required
def interview(interview_id: int):
    item = queries.interview_for(current_user, interview_id)
    instrument = ops.instrument_of(item.instrument_version)
    answers = ops.stored_answers(item)
    review_form = ReviewForm(version=item.version) if current_user.role != "fieldworker" else None
    return render_template(
        "fieldwork/interview.html",
        interview=item,
        instrument=instrument,
        answers=answers,
        shown={q.key for q in visible_questions(instrument, answers)},
        can_edit=queries.can_edit(current_user, item),
        submit_form=VersionedForm(version=item.version),
        review_form=review_form,
        lang=lang(),
    )


@staff_required
def section(interview_id: int, key: str):
    """One section of the interview as a page: show it, or save it and move on."""
    item, instrument, current = _section_of(interview_id, key)
    stored = ops.stored_answers(item)
    consent_section = instrument.sections[0].key
    if key != consent_section and not consent_given(stored, instrument):
        flash(_("Record the consent first: nothing else can be saved before it."), "warning")
        return redirect(url_for("fieldwork.section", interview_id=item.id, key=consent_section))
    form_cls = build_section_form(instrument, key, lang(), base=VersionedForm)
    if request.method == "GET":
        form = form_cls(data={**form_data(current, stored), "version": item.version})
        return _render_section(item, instrument, current, form, stored)

    form = form_cls()
    status = 400
    if form.validate():
        try:
            ops.save_answers(
                item, form_answers(form, current), int(form.version.data), current_user
            )
        except ops.StaleInterview as err:
            db.session.rollback()
            flash(err.message(lang()), "danger")
            status = 409
        except ops.AnswersRefused as err:
            db.session.rollback()
            apply_answer_errors(form, err.errors, lang())
            flash(_("Some answers are not valid; nothing was saved."), "danger")
            status = 422
        else:
            flash(_("Answers saved."), "success")
            return redirect(_after_save(item, instrument, key))
    return _render_section(
        item, instrument, current, form, {**stored, **form_answers(form, current)}
    ), status


@staff_required
def autosave(interview_id: int, key: str):
    """Save a section in the background (the page's autosave): JSON in, JSON out."""
    item, instrument, current = _section_of(interview_id, key)
    form = build_section_form(instrument, key, lang(), base=VersionedForm)()
    if not form.validate():
        return jsonify(ok=False, error="form", message=_("The page has expired: reload it.")), 400
    try:
        ops.save_answers(item, form_answers(form, current), int(form.version.data), current_user)
    except ops.StaleInterview as err:
        db.session.rollback()
        return jsonify(ok=False, error="stale", message=err.message(lang())), 409
    except ops.AnswersRefused as err:
        db.session.rollback()
        messages = {e.key: (e.message_fr if lang() == "fr" else e.message_en) for e in err.errors}
        return jsonify(
            ok=False,
            error="invalid",
            errors=messages,
            message=_("Some answers are not valid; they are not saved yet."),
        ), 422
    return jsonify(
        ok=True, version=item.version, saved=item.updated_dt.isoformat(timespec="seconds")
    )


def _section_of(interview_id: int, key: str):
    """The interview (checked for this user), its instrument and the section, or 404."""
    item = queries.interview_for(current_user, interview_id, edit=request.method == "POST")
    instrument = ops.instrument_of(item.instrument_version)
    try:
        return item, instrument, instrument.section(key)
    except KeyError:
        abort(404)


def _after_save(item, instrument, key: str) -> str:
    """Where the form goes after a save: the overview, the section asked for, or this one."""
    if request.form.get("go") == "overview":
        return url_for("fieldwork.interview", interview_id=item.id)
    target = request.form.get("next_section") or key
    if target not in {s.key for s in instrument.sections}:
        target = key
    return url_for("fieldwork.section", interview_id=item.id, key=target)


def _render_section(item, instrument, current, form, answers):
    keys = [s.key for s in instrument.sections]
    index = keys.index(current.key)
    return render_template(
        "fieldwork/section.html",
        interview=item,
        instrument=instrument,
        section=current,
        form=form,
        answers=answers,
        previous_key=keys[index - 1] if index > 0 else None,
        next_key=keys[index + 1] if index + 1 < len(keys) else None,
        lang=lang(),
    )


@staff_required
def submit(interview_id: int):
    item = queries.interview_for(current_user, interview_id, edit=True)
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.submit_interview(item, int(form.version.data), current_user)
    except ops.AnswersRefused as err:
        db.session.rollback()
        flash(_("The interview cannot be submitted yet:"), "danger")
        for error in err.errors[:20]:
            question = ops.instrument_of(item.instrument_version).question(error.key)
            flash(
                f"{question.key} — {error.message_fr if lang() == 'fr' else error.message_en}",
                "danger",
            )
    except ops.FieldworkError as err:
        db.session.rollback()
        flash(err.message(lang()), "danger")
    else:
        flash(_("Interview submitted."), "success")
    return redirect(url_for("fieldwork.interview", interview_id=item.id))


@researcher_required
def review(interview_id: int):
    item = queries.interview_for(current_user, interview_id)
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        ops.review_interview(
            item, form.status.data, form.comment.data or "", int(form.version.data), current_user
        )
    except ops.FieldworkError as err:
        db.session.rollback()
        flash(err.message(lang()), "danger")
    else:
        flash(_("Review recorded."), "success")
    return redirect(url_for("fieldwork.interview", interview_id=item.id))


# --- transcripts ---------------------------------------------------------------------------------


@staff_required
def transcript(interview_id: int):
    item = queries.interview_for(current_user, interview_id, edit=request.method == "POST")
    form = TranscriptForm()
    status = 200
    if form.validate_on_submit():
        upload = request.files.get("file")
        try:
            if upload and upload.filename:
                limit = current_app.config["TRANSCRIPT_MAX_BYTES"]
                with upload.stream:  # large uploads spool to a temporary file: close it
                    data = upload.read(limit + 1)
                text = read_upload_isolated(
                    upload.filename, data, limit, **limits_from(current_app.config)
                )
                fmt = upload.filename.rsplit(".", 1)[-1].lower()
                saved = ops.save_transcript(
                    item, text, current_user, source_format=fmt, filename=upload.filename
                )
            else:
                saved = ops.save_transcript(item, form.text.data or "", current_user)
        except TranscriptFileError as err:
            db.session.rollback()
            flash(err.message_fr if lang() == "fr" else err.message_en, "danger")
            status = 429 if err.code == "busy" else 400
        except ops.FieldworkError as err:
            db.session.rollback()
            flash(err.message(lang()), "danger")
            status = 400
        else:
            if saved is None:
                flash(_("The transcript is unchanged."), "info")
            else:
                flash(
                    _(
                        "Transcript version %(n)d saved (%(turns)d speaker turns).",
                        n=saved.number,
                        turns=sum(1 for s in saved.segments if s.kind == "turn"),
                    ),
                    "success",
                )
            return redirect(url_for("fieldwork.transcript", interview_id=item.id))
    elif request.method == "POST":
        status = 400
    current = item.transcripts[0].current if item.transcripts else None
    if request.method == "GET" and current is not None:
        form.text.data = current.text
    turns = [s for s in current.segments if s.kind == "turn"] if current else []
    return render_template(
        "fieldwork/transcript.html",
        interview=item,
        form=form,
        current=current,
        turns=turns,
        can_edit=queries.can_edit(current_user, item),
    ), status
