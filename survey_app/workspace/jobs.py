"""Job kinds for model suggestions and retraining (registered with @job_kind)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app

from survey_app.core.job_queue import JobError, job_kind
from survey_app.extensions import db
from survey_app.models import Job, ModelVersion, TranscriptVersion, User

# the model libraries (spaCy, scikit-learn) load inside the jobs, not at application start


@job_kind("suggest")
def suggest_job(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Run the model version named in the job on a transcript version's turns."""
    from coding.model import ModelError
    from survey_app.workspace.model_versions import ModelVersionError
    from survey_app.workspace.suggestions import DEFAULT_FLOOR, run_suggestions

    version = db.session.get(TranscriptVersion, job.params["transcript_version_id"])
    model_version = db.session.get(ModelVersion, job.params["model_version_id"])
    if version is None or model_version is None:
        raise JobError("transcript or model version not found")
    try:
        user = db.session.get(User, job.created_by_id) if job.created_by_id else None
        floor = float(job.params.get("floor", DEFAULT_FLOOR))
        return run_suggestions(version, model_version, progress, user, floor)
    except (ModelError, ModelVersionError) as err:
        raise JobError(str(err)) from err


@job_kind("retrain")
def retrain_job(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Train a new model version from the human codings, beside the previous version's figures."""
    from survey_app.workspace.model_versions import active_model_version
    from survey_app.workspace.training import TrainingError, retrain

    previous = active_model_version()
    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    folder = Path(current_app.instance_path) / "models"
    try:
        version = retrain(folder, user, progress, folds=int(job.params.get("folds", 5)))
    except TrainingError as err:
        raise JobError(str(err)) from err
    return {
        "model_version": version.id,
        "training_size": version.training_size,
        "macro_f1": (version.metrics or {}).get("macro_f1"),
        "candidate": (version.metrics or {}).get("candidate"),
        "mean_family_alpha": (version.metrics or {}).get("mean_family_alpha"),
        "previous_model_version": previous.id if previous else None,
    }


@job_kind("next")
def next_job(job: Job, progress: Callable[[float, str], None]) -> dict[str, Any]:
    """Rank the uncoded turns of the job's user by the active model's uncertainty."""
    from survey_app.workspace.model_versions import ModelVersionError
    from survey_app.workspace.next_segment import next_segments

    user = db.session.get(User, job.created_by_id) if job.created_by_id else None
    if user is None:
        raise JobError("no user")
    progress(0.1, "")
    try:
        picks = next_segments(user, k=int(job.params.get("k", 10)))
    except ModelVersionError as err:
        raise JobError(str(err)) from err
    return {
        "picks": [
            {
                "version_id": p.case.version.id,
                "pseudonym": p.case.pseudonym,
                "start": p.start,
                "end": p.end,
                "text": p.text[:400],
                "uncertainty": round(p.uncertainty, 4),
            }
            for p in picks
        ]
    }
