"""A round's inter-coder agreement, computed in the page or as a background job.

Agreement figures come from `coding.agreement` (the project's one implementation); this
module only turns a round's database rows into the tidy tables that library expects, always
from the coders' original codings (never the consensus ones).
"""

from bisect import bisect_left, bisect_right
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from coding import agreement
from survey_app.core.job_queue import (
    JobError,
    fail_if_worker_died,
    job_kind,
    start_job,
)
from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Code,
    CodingRound,
    Job,
    TranscriptVersion,
    User,
)
from survey_app.rounds.lifecycle import FRAME_COLUMNS, RoundError, _coding_frame

LEVELS = ("unit", "character", "document")
AGREEMENT_JOB = "round_agreement"


# --- agreement ------------------------------------------------------------------------------


def round_codes(rnd: CodingRound) -> dict[str, Code]:
    """The codes of the round's codebook version, by key."""
    codes = db.session.scalars(
        sa.select(Code).where(Code.codebook_version_id == rnd.codebook_version_id)
    )
    return {c.key: c for c in codes}


def turns_of(tv: TranscriptVersion) -> list[tuple[int, int]]:
    """Speaker turns of a transcript version; the whole text when it has none."""
    turns = [(s.start, s.end) for s in tv.segments if s.kind == "turn" and s.end > s.start]
    return turns or [(0, len(tv.text))]


def _assignments(rnd: CodingRound) -> pd.DataFrame:
    """Every coder of the round codes every transcript of it (no coding = nothing applies)."""
    rows = [(tv.id, u.username) for tv in rnd.transcript_versions for u in rnd.coders]
    return pd.DataFrame(rows, columns=["doc", "coder"])


#: one coding's share of a speaker turn: (coder, coding id, start, end, code), clipped to the turn
Piece = tuple[str, int, int, int, str]


def turn_cells(
    frame: pd.DataFrame, turns: dict[int, list[tuple[int, int]]]
) -> dict[tuple[int, int, int], list[Piece]]:
    """Assign each coding to every turn it overlaps: {(doc, turn start, turn end): pieces}."""
    cells: dict[tuple[int, int, int], list[Piece]] = {
        (doc, a, b): [] for doc, spans in turns.items() for a, b in spans
    }
    bounds = {doc: ([a for a, _ in spans], [b for _, b in spans]) for doc, spans in turns.items()}
    for doc, coder, start, end, code, cid in frame[FRAME_COLUMNS].itertuples(index=False):
        doc = int(doc)
        if doc not in bounds:
            continue
        starts, ends = bounds[doc]
        # turns are sorted and disjoint: those with end > start and start < end overlap
        for i in range(bisect_right(ends, start), bisect_left(starts, end)):
            a, b = starts[i], ends[i]
            cells[(doc, a, b)].append(
                (str(coder), int(cid), int(max(start, a)), int(min(end, b)), str(code))
            )
    return cells


def turn_table(cells: dict[tuple[int, int, int], list[Piece]], coders: list[str]) -> pd.DataFrame:
    """Unit table (unit, coder, codes) for coding.agreement: one row per turn and coder."""
    rows = [
        {"unit": unit, "coder": coder, "codes": frozenset(p[4] for p in pieces if p[0] == coder)}
        for unit, pieces in sorted(cells.items())
        for coder in coders
    ]
    return pd.DataFrame(rows, columns=["unit", "coder", "codes"])


def _turns(rnd: CodingRound) -> dict[int, list[tuple[int, int]]]:
    return {tv.id: sorted(turns_of(tv)) for tv in rnd.transcript_versions}


def _coders(rnd: CodingRound) -> list[str]:
    return sorted(u.username for u in rnd.coders)


def turn_units(rnd: CodingRound) -> pd.DataFrame:
    """Unit table at speaker-turn level: a coding belongs to every turn it overlaps."""
    return turn_table(turn_cells(_coding_frame(rnd), _turns(rnd)), _coders(rnd))


def units_for(rnd: CodingRound, level: str) -> pd.DataFrame:
    """Return the round's unit table at `level` (unit = speaker turn, character, document)."""
    if level == "unit":
        return turn_units(rnd)
    frame = _coding_frame(rnd)
    if level == "character":
        lengths = {tv.id: len(tv.text) for tv in rnd.transcript_versions}
        return agreement.spans_to_units(frame, lengths, _assignments(rnd))
    if level == "document":
        return agreement.spans_to_documents(frame, _assignments(rnd))
    raise RoundError("Niveau inconnu.", f"Unknown level {level!r}.")


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-ready dicts (NaN becomes None)."""
    out = []
    for row in table.to_dict("records"):
        out.append(
            {
                k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in row.items()
            }
        )
    return out


def agreement_report(
    rnd: CodingRound,
    level: str = "unit",
    exclude_uncoded: bool = False,
    n_boot: int = 1000,
    progress: Any = None,
) -> dict[str, Any]:
    """Agreement per code, per family and overall ("ALL") on the coders' original codings."""
    if rnd.status == "open":
        raise RoundError(
            "L’accord se calcule quand tous les codeurs ont terminé.",
            "Agreement is computed once every coder is done.",
        )
    if level not in LEVELS:
        raise RoundError("Niveau inconnu.", f"Unknown level {level!r}.")
    units = units_for(rnd, level)
    codes = round_codes(rnd)

    def family_of(key: str) -> str:
        return codes[key].family if key in codes else "OTHER"

    common = {"exclude_uncoded": exclude_uncoded, "n_boot": n_boot, "seed": 0}
    by_code = agreement.agreement_table(units, level="code", **common)
    if progress is not None:
        progress(0.6, "families")
    by_family = agreement.agreement_table(units, level="family", family_of=family_of, **common)
    coders = _coders(rnd)
    return {
        "round": rnd.id,
        "name": rnd.name,
        "status": rnd.status,
        "level": level,
        "exclude_uncoded": exclude_uncoded,
        "coders": sorted(u.username for u in rnd.coders),
        "n_transcripts": len(rnd.transcript_versions),
        "n_units": int(units["unit"].nunique()) if not units.empty else 0,
        "kappa_method": "cohen" if len(rnd.coders) == 2 else "mean_pairwise_cohen",
        "bootstrap": {"n": n_boot, "ci": 0.95, "seed": 0},
        "thresholds": {"reliable": agreement.RELIABLE, "tentative": agreement.TENTATIVE},
        "codes": _records(by_code),
        "families": _records(by_family),
        "pairwise": _pairwise(units, coders, exclude_uncoded) if len(coders) > 2 else [],
    }


def _pairwise(units: pd.DataFrame, coders: list[str], exclude_uncoded: bool) -> list[dict]:
    """Cohen's kappa per code for each pair of coders (shown beside Light's mean kappa)."""
    out = []
    for a, b in combinations(coders, 2):
        pair = units[units["coder"].isin([a, b])]
        table = agreement.agreement_table(pair, exclude_uncoded=exclude_uncoded, n_boot=0)
        kappas = {r["code"]: r["kappa"] for r in _records(table)}
        out.append({"coders": [a, b], "kappa": kappas})
    return out


# --- agreement as a background job (the bootstrap takes seconds on real rounds) ----------


def agreement_params(
    rnd: CodingRound, level: str, exclude_uncoded: bool, n_boot: int
) -> dict[str, Any]:
    """What identifies one agreement computation; `frozen` names the closure snapshot."""
    if level not in LEVELS:
        raise RoundError("Niveau inconnu.", f"Unknown level {level!r}.")
    return {
        "round": rnd.id,
        "level": level,
        "exclude_uncoded": bool(exclude_uncoded),
        "n_boot": int(n_boot),
        "frozen": _snapshot_event_id(rnd),
    }


def _snapshot_event_id(rnd: CodingRound) -> int | None:
    return db.session.scalar(
        sa.select(sa.func.max(AuditEvent.id)).where(
            AuditEvent.action == "round.close",
            AuditEvent.object_type == CodingRound.__tablename__,
            AuditEvent.object_id == str(rnd.id),
        )
    )


def agreement_job_for(rnd: CodingRound, params: dict[str, Any]) -> Job | None:
    """The newest job computing exactly `params` (its result is reusable: codings are frozen)."""
    jobs = db.session.scalars(
        sa.select(Job).where(Job.kind == AGREEMENT_JOB).order_by(Job.id.desc())
    )
    return next((job for job in jobs if job.params == params), None)


def request_agreement(
    rnd: CodingRound,
    user: User,
    level: str,
    exclude_uncoded: bool,
    n_boot: int,
    retry: bool = False,
) -> Job:
    """Return the job holding (or computing) this agreement, starting one if needed.

    A failed job is returned as is (so pages show its error) unless `retry` is set.
    """
    if rnd.status == "open":
        raise RoundError(
            "L’accord se calcule quand tous les codeurs ont terminé.",
            "Agreement is computed once every coder is done.",
        )
    params = agreement_params(rnd, level, exclude_uncoded, n_boot)
    job = agreement_job_for(rnd, params)
    if job is not None:
        fail_if_worker_died(job)  # never "computing" for good
    if job is None or (retry and job.status == "failed"):
        job = start_job(AGREEMENT_JOB, params, user)
    return job


@job_kind(AGREEMENT_JOB)
def run_agreement_job(job: Job, progress: Any) -> dict[str, Any]:
    """Compute one round's agreement report for the page and the JSON endpoint."""
    rnd = db.session.get(CodingRound, job.params["round"])
    if rnd is None:
        raise JobError("This coding round no longer exists.")
    progress(0.05, "agreement")
    p = job.params
    return agreement_report(rnd, p["level"], p["exclude_uncoded"], p["n_boot"], progress)
