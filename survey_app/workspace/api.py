"""JSON endpoints of the coding workspace; every read goes through visible_codings_query."""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from survey_app.auth.decorators import researcher_required
from survey_app.codings.operations import (
    CodingError,
    create_coding,
    delete_coding,
    restore_coding,
    update_coding,
)
from survey_app.core.job_queue import job_status, start_job
from survey_app.core.paging import bounded_int
from survey_app.extensions import db
from survey_app.models import Job
from survey_app.workspace import queries as q
from survey_app.workspace import suggestions as sugg
from survey_app.workspace.model_versions import ModelVersionError, ensure_model_version

VALUE_FIELDS = ("valence", "intensity")


def _refuse(status: int, error: str, message: str):
    return jsonify(ok=False, error=error, message=message), status


def _message(err: Any) -> str:
    return err.message_en if q.lang() == "en" else err.message_fr


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def _int_or_none(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError(name)
    try:
        return bounded_int(value)
    except (TypeError, ValueError):
        raise ValueError(name) from None


def _values(data: dict[str, Any]) -> dict[str, Any]:
    """Read the optional fields of a coding; raise ValueError naming a malformed one."""
    out: dict[str, Any] = {}
    for name in VALUE_FIELDS:
        if name in data:
            out[name] = _int_or_none(data[name], name)
    if "memo" in data:
        if not isinstance(data["memo"], str) or len(data["memo"]) > 10_000:
            raise ValueError("memo")
        out["memo"] = data["memo"]
    return out


def _usable_code(code_id: Any):
    code = q.code_or_none(code_id)
    if code is None or code.retired or not code.codebook_version.is_current:
        return None
    return code


@researcher_required
def codings(version_id: int):
    version = q.version_or_404(version_id)
    rows = q.visible_codings(current_user, version.id)
    return jsonify(ok=True, codings=[q.coding_json(c, current_user) for c in rows])


@researcher_required
def create(version_id: int):
    version = q.version_or_404(version_id)
    data = _payload()
    try:
        start, end = _int_or_none(data.get("start"), "start"), _int_or_none(data.get("end"), "end")
        values = _values(data)
    except ValueError as err:
        return _refuse(400, "invalid", _("Invalid value: %(name)s.", name=str(err)))
    if start is None or end is None:
        return _refuse(400, "span", _("The selection has no start or end."))
    code = _usable_code(data.get("code_id"))
    if code is None:
        return _refuse(400, "code", _("Choose a code of the current codebook."))
    try:
        coding = create_coding(version, start, end, code, current_user, **values)
    except CodingError as err:
        return _refuse(400, "invalid", _message(err))
    return jsonify(ok=True, coding=q.coding_json(coding, current_user)), 201


@researcher_required
def update(coding_id: int):
    coding = q.visible_coding_or_404(current_user, coding_id)
    if coding.coder_id != current_user.id:
        return _refuse(403, "forbidden", _("You can only change your own codings."))
    data = _payload()
    try:
        expected = _int_or_none(data.get("version"), "version")
        changes = _values(data)
        for name in ("start", "end"):
            if name in data:
                changes[name] = _int_or_none(data[name], name)
    except ValueError as err:
        return _refuse(400, "invalid", _("Invalid value: %(name)s.", name=str(err)))
    if expected != coding.version:
        return _refuse(409, "stale", _("This coding changed in the meantime; reload the page."))
    if "code_id" in data:
        code = _usable_code(data["code_id"])
        if code is None:
            return _refuse(400, "code", _("Choose a code of the current codebook."))
        changes["code"] = code
    try:
        update_coding(coding, current_user, expected, undo=data.get("undo") is True, **changes)
    except CodingError as err:
        return _refuse(400, "invalid", _message(err))
    return jsonify(ok=True, coding=q.coding_json(coding, current_user))


def _stale():
    return _refuse(409, "stale", _("This coding changed in the meantime; reload the page."))


@researcher_required
def delete(coding_id: int):
    """Delete one's own coding; with `version` (an undo sends it), only if it is unchanged."""
    coding = q.visible_coding_or_404(current_user, coding_id)
    if coding.coder_id != current_user.id:
        return _refuse(403, "forbidden", _("You can only change your own codings."))
    data = _payload()
    try:
        expected = _int_or_none(data.get("version"), "version")
    except ValueError as err:
        return _refuse(400, "invalid", _("Invalid value: %(name)s.", name=str(err)))
    if expected is not None and expected != coding.version:
        return _stale()
    delete_coding(coding, current_user, expected, undo=data.get("undo") is True)
    return jsonify(ok=True, id=coding.id, version=coding.version)


@researcher_required
def restore(coding_id: int):
    """Undo a delete: bring one's own deleted coding back, if nobody changed it since."""
    coding = q.visible_coding_or_404(current_user, coding_id, statuses=("deleted",))
    if coding.coder_id != current_user.id:
        return _refuse(403, "forbidden", _("You can only change your own codings."))
    try:
        expected = _int_or_none(_payload().get("version"), "version")
    except ValueError as err:
        return _refuse(400, "invalid", _("Invalid value: %(name)s.", name=str(err)))
    if expected != coding.version:
        return _stale()
    try:
        restore_coding(coding, current_user, expected)
    except CodingError as err:
        return _refuse(400, "invalid", _message(err))
    return jsonify(ok=True, coding=q.coding_json(coding, current_user))


@researcher_required
def suggestions(version_id: int):
    version = q.version_or_404(version_id)
    rows = q.visible_suggestions(current_user, version.id)
    return jsonify(
        ok=True,
        blocked=sugg.suggestions_blocked(current_user, version),
        suggestions=[q.coding_json(c, current_user) for c in rows],
    )


@researcher_required
def suggest(version_id: int):
    version = q.version_or_404(version_id)
    if sugg.suggestions_blocked(current_user, version):
        return _refuse(
            409, "blind", _("You code this transcript in an open blind round: code it unaided.")
        )
    try:
        floor = sugg.check_floor(_payload().get("floor", sugg.DEFAULT_FLOOR))
    except sugg.SuggestionError as err:
        return _refuse(400, "invalid", _message(err))
    try:
        model_version = ensure_model_version()
    except ModelVersionError as err:
        return _refuse(409, "model", _message(err))
    job = start_job(
        "suggest",
        {
            "transcript_version_id": version.id,
            "model_version_id": model_version.id,
            "floor": floor,
        },
        current_user,
    )
    return jsonify(ok=True, job=job_status(job)), 202


def _suggestion_or_404(suggestion_id: int):
    found = sugg.suggestion_for(current_user, suggestion_id)
    if found is None:
        abort(404)
    return found


@researcher_required
def accept(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    try:
        coding = sugg.accept(suggestion, current_user)
    except (CodingError, sugg.SuggestionError) as err:
        return _refuse(400, "invalid", _message(err))
    return jsonify(ok=True, coding=q.coding_json(coding, current_user), suggestion=suggestion.id)


@researcher_required
def reject(suggestion_id: int):
    suggestion = _suggestion_or_404(suggestion_id)
    sugg.reject(suggestion, current_user)
    return jsonify(ok=True, suggestion=suggestion.id)


@researcher_required
def job(job_id: int):
    item = db.session.get(Job, job_id)
    mine = item is not None and (
        item.created_by_id == current_user.id or current_user.role == "admin"
    )
    if not mine or item.kind not in ("suggest", "retrain", "next"):
        abort(404)
    return jsonify(ok=True, job=job_status(item))
