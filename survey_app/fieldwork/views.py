"""Fieldwork pages: organisations, interviews section by section, review, transcripts."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from survey_app.auth.decorators import researcher_required, staff_required
from survey_app.core.labels import (
    KIND_LABELS,
    SIZE_BAND_LABELS,
    STATUS_LABELS,
    category_labels,
    lang,
)
from survey_app.core.paging import bounded_int
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
from survey_app.fieldwork.operations import EDITABLE_BY_FIELDWORKER as EDITABLE
from survey_app.instruments.answers import consent_given, validate_answers, visible_questions
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
    query = (request.args.get("q") or "").strip()
    kind = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else None
    rows = queries.organisations_for_choice(kind, query)
    return render_template(
        "fieldwork/organisations.html",
        organisations=rows,
        query=query,
        kind=kind,
        size_band_labels=SIZE_BAND_LABELS,
        category_labels=category_labels(),
    )


@staff_required
def new_organisation():
    return _organisation_page(None)


@staff_required
def edit_organisation(organisation_id: int):
    org = db.session.get(Organisation, organisation_id)
    if org is None:
        abort(404)
    return _organisation_page(org)


def _organisation_page(org: Organisation | None):
    """The organisation form: add one (org None) or change one."""
    if org is not None and request.method == "GET":
        form = OrganisationForm(
            obj=org,
            export_share=None if org.export_share is None else round(org.export_share * 100, 1),
        )
    else:
        form = OrganisationForm()
    if org is not None:  # its pseudonym (PME_/REL_) and its interviews' guides follow the kind
        form.kind.data = org.kind
    communes = queries.communes()
    form.territory_id.choices = [
        SelectChoice("", _("— choose a commune —")),
        *[SelectChoice(t.id, f"{t.name} ({t.code})") for t in communes],
    ]
    form.size_band.choices = [
        SelectChoice("", "—"),
        *[SelectChoice(b, f"{SIZE_BAND_LABELS[b]} ({b})") for b in SIZE_BANDS],
    ]
    form.relay_category.choices = [
        SelectChoice("", "—"),
        *[SelectChoice(key, label) for key, label in category_labels().items()],
    ]
    valid = form.validate_on_submit()
    territory = (
        db.session.get(Territory, form.territory_id.data) if form.territory_id.data else None
    )
    if valid and (territory is None or territory.level != "commune"):
        form.territory_id.errors = [*form.territory_id.errors, _("Choose the commune.")]
        valid = False
    if valid:
        sme = form.kind.data == "sme"
        fields = {
            "kind": form.kind.data,
            "name": form.name.data.strip(),
            "territory": territory,
            "siret": form.siret.data or None,
            "naf_code": (form.naf_code.data or None) if sme else None,
            "size_band": (form.size_band.data or None) if sme else None,
            "export_share": float(form.export_share.data) / 100
            if sme and form.export_share.data is not None
            else None,
            "relay_category": None if sme else (form.relay_category.data or None),
        }
        if org is None:
            org = ops.create_organisation(current_user, **fields)
            flash(_("Organisation %(code)s added.", code=org.pseudonym), "success")
            return redirect(url_for("fieldwork.new_interview", organisation=org.id))
        ops.update_organisation(org, current_user, **fields)
        flash(_("Organisation %(code)s saved.", code=org.pseudonym), "success")
        return redirect(url_for("fieldwork.organisations"))
    return render_template("fieldwork/organisation_form.html", form=form, organisation=org)


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
    if request.method == "GET" and request.args.get("organisation", type=bounded_int):
        form.organisation_id.data = request.args.get("organisation", type=bounded_int)
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
    problems = []
    if session.pop("submit_check", None) == item.id and item.status in EDITABLE:
        problems = _problems(instrument, validate_answers(instrument, answers, final=True))
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
        submit_problems=problems,
        lang=lang(),
    )


def _problems(instrument, errors) -> list[dict]:
    """Answer errors as the page lists them: question label, its section, the message."""
    where = ops.section_of_question(instrument)
    titles = {s.key: s.title.get(lang()) or s.title.get("fr", s.key) for s in instrument.sections}
    problems = []
    for error in errors:
        try:
            question = instrument.question(error.key)
        except KeyError:
            label = error.key
        else:
            label = question.label.get(lang()) or question.label.get("fr") or error.key
        section = where.get(error.key)
        problems.append(
            {
                "key": error.key,
                "label": label,
                "section": section,
                "section_title": titles.get(section, ""),
                "message": error.message_fr if lang() == "fr" else error.message_en,
            }
        )
    return problems


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
    locked = not queries.can_edit(current_user, item)
    if request.method == "GET" or locked:
        # a locked interview shows read-only; a save is refused with the reason, not a bare 403
        form = form_cls(data={**form_data(current, stored), "version": item.version})
        page = _render_section(item, instrument, current, form, stored, locked=locked)
        return page, 403 if request.method == "POST" else 200

    form = form_cls()
    status = 400
    if form.validate():
        answers = form_answers(form, current)
        try:
            _changes, left_out = ops.save_valid_answers(
                item, answers, int(form.version.data), current_user
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
            if left_out:
                # the valid answers are saved; the invalid ones stay in their boxes
                apply_answer_errors(form, left_out, lang())
                form.version.data = item.version
                flash(
                    ngettext(
                        "The other answers are saved; %(num)d answer is not valid and is not "
                        "saved: correct it below. This section is incomplete.",
                        "The other answers are saved; %(num)d answers are not valid and are "
                        "not saved: correct them below. This section is incomplete.",
                        len(left_out),
                    ),
                    "warning",
                )
                shown = {**ops.stored_answers(item), **answers}
                g.commit_partial = True  # keep the valid answers despite the 422
                return _render_section(item, instrument, current, form, shown), 422
            if key == consent_section and not consent_given(ops.stored_answers(item), instrument):
                flash(
                    _(
                        "Consent refused or not complete: no other answer can be recorded "
                        "for this interview."
                    ),
                    "warning",
                )
                return redirect(url_for("fieldwork.section", interview_id=item.id, key=key))
            flash(_("Answers saved."), "success")
            return redirect(_after_save(item, instrument, key))
    return _render_section(
        item, instrument, current, form, {**stored, **form_answers(form, current)}
    ), status


def locked_message(item) -> str:
    """Why a fieldworker can no longer change an interview, and who can reopen it."""
    return _(
        "This interview is %(status)s: it is read-only. A researcher or an administrator can "
        "reopen it by marking it “%(reopen)s” in the review.",
        status=STATUS_LABELS[item.status],
        reopen=STATUS_LABELS["has_issues"],
    )


@staff_required
def autosave(interview_id: int, key: str):
    """Save a section in the background (the page's autosave): JSON in, JSON out."""
    item, instrument, current = _section_of(interview_id, key)
    if not queries.can_edit(current_user, item):
        return jsonify(ok=False, error="locked", message=locked_message(item)), 403
    form = build_section_form(instrument, key, lang(), base=VersionedForm)()
    if not form.validate():
        return jsonify(ok=False, error="form", message=_("The page has expired: reload it.")), 400
    try:
        _changes, left_out = ops.save_valid_answers(
            item, form_answers(form, current), int(form.version.data), current_user
        )
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
    saved = item.updated_dt.isoformat(timespec="seconds")
    consent = consent_given(ops.stored_answers(item), instrument)
    if left_out:
        messages = {e.key: (e.message_fr if lang() == "fr" else e.message_en) for e in left_out}
        return jsonify(
            ok=True,
            version=item.version,
            saved=saved,
            errors=messages,
            consent=consent,
            message=_("Saved, except the answers marked in red: they are not valid."),
        )
    return jsonify(ok=True, version=item.version, saved=saved, consent=consent)


def _section_of(interview_id: int, key: str):
    """The interview (checked for this user), its instrument and the section, or 404.

    Whether the user may change it is the caller's check, so a refusal can say why."""
    item = queries.interview_for(current_user, interview_id)
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


def _render_section(item, instrument, current, form, answers, *, locked=False):
    keys = [s.key for s in instrument.sections]
    index = keys.index(current.key)
    consent_refused = index == 0 and not consent_given(answers, instrument)
    return render_template(
        "fieldwork/section.html",
        interview=item,
        instrument=instrument,
        section=current,
        form=form,
        answers=answers,
        previous_key=keys[index - 1] if index > 0 else None,
        next_key=keys[index + 1] if index + 1 < len(keys) else None,
        incomplete=ops.incomplete_sections(item),
        locked=locked,
        locked_message=locked_message(item) if locked else "",
        consent_refused=consent_refused,
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
    except ops.AnswersRefused:
        db.session.rollback()
        # the overview then lists what is missing, in one list (recomputed there)
        session["submit_check"] = item.id
        return redirect(url_for("fieldwork.interview", interview_id=item.id))
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
    item = queries.interview_for(current_user, interview_id)
    if request.method == "POST" and not queries.can_edit_transcript(current_user, item):
        abort(403)
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
                text = (form.text.data or "").replace("\r\n", "\n")
                limit = current_app.config["TRANSCRIPT_MAX_BYTES"]
                size = len(text.encode("utf-8"))
                if size > limit:
                    raise TranscriptFileError(
                        "too_large",
                        f"Transcription trop longue ({f'{size / 1e6:.1f}'.replace('.', ',')} Mo ; "
                        f"{limit / 1e6:.0f} Mo "
                        "au plus) : rien n’a été enregistré, le texte est resté ci-dessous.",
                        f"Transcript too long ({size / 1e6:.1f} MB; {limit / 1e6:.0f} MB at "
                        "most): nothing was saved, the text is kept below.",
                    )
                saved = ops.save_transcript(item, text, current_user)
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
        can_edit=queries.can_edit_transcript(current_user, item),
        answers_locked=not queries.can_edit(current_user, item),
        limit=current_app.config["TRANSCRIPT_MAX_BYTES"],
    ), status
