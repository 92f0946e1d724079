"""'Next segment to code': active learning (coding.active) over the turns the user has not coded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from survey_app.codings.operations import visible_codings_query
from survey_app.extensions import db
from survey_app.models import Coding, ModelVersion, User
from survey_app.workspace.cases import Case, current_cases
from survey_app.workspace.model_versions import ensure_model_version, load_theme_model
from survey_app.workspace.suggestions import turn_units

#: turns scored per request at most (spread over transcripts), to answer within a second or two
MAX_CANDIDATES = 400
_SCORES: dict[tuple[int, int, int, int], np.ndarray] = {}


@dataclass
class Pick:
    case: Case
    start: int
    end: int
    text: str
    uncertainty: float


def uncoded_turns(user: User, cases: list[Case]) -> list[tuple[Case, int, int]]:
    """Turns with no coding the user can see, taken round-robin across transcripts."""
    per_case = []
    for case in cases:
        stmt = visible_codings_query(user, case.version.id).where(Coding.source != "model")
        spans = [(c.start, c.end) for c in db.session.scalars(stmt)]
        free = [
            (case, a, b)
            for seg, a, b in turn_units(case.version, respondent_only=True)
            if not any(s < seg.end and e > seg.start for s, e in spans)
        ]
        per_case.append(free)
    out: list[tuple[Case, int, int]] = []
    depth = 0
    while len(out) < MAX_CANDIDATES and any(depth < len(f) for f in per_case):
        out.extend(f[depth] for f in per_case if depth < len(f))
        depth += 1
    return out[:MAX_CANDIDATES]


def _scores(model_version: ModelVersion, turns: list[tuple[Case, int, int]]) -> np.ndarray:
    model, _book = load_theme_model(model_version)
    keys = [(model_version.id, c.version.id, a, b) for c, a, b in turns]
    missing = [i for i, k in enumerate(keys) if k not in _SCORES]
    if missing:
        texts = [turns[i][0].version.text[turns[i][1] : turns[i][2]] for i in missing]
        for i, row in zip(missing, model.predict_proba(texts), strict=True):
            _SCORES[keys[i]] = row
    return np.vstack([_SCORES[k] for k in keys]) if keys else np.zeros((0, len(model.codes)))


def next_segments(user: User, k: int = 10) -> list[Pick]:
    """Return the k most uncertain uncoded turns, at most 2 per transcript."""
    import pandas as pd

    from coding.active import next_to_code

    turns = uncoded_turns(user, current_cases())
    if not turns:
        return []
    model_version = ensure_model_version()
    model, _book = load_theme_model(model_version)
    scores = _scores(model_version, turns)
    frame = pd.DataFrame(
        {
            "transcript_id": [c.version.id for c, _a, _b in turns],
            "text": [c.version.text[a:b] for c, a, b in turns],
        }
    )
    picked = next_to_code(frame, scores, model.thresholds, k=k, per_transcript=2)
    return [
        Pick(turns[i][0], turns[i][1], turns[i][2], frame.at[i, "text"], float(row.uncertainty))
        for i, row in zip(picked.index, picked.itertuples(), strict=True)
    ]
