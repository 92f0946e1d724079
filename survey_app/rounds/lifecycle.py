"""Blind double-coding rounds: creation, "done", closure, agreement and reconciliation.

Agreement figures come from `coding.agreement` (the project's one implementation); this
module only turns a round's database rows into the tidy tables that library expects, always
from the coders' original codings (never the consensus ones).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import defer
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from coding import agreement
from survey_app.codings.operations import LIVE_STATUSES, blind_transcript_ids
from survey_app.core.audit import record
from survey_app.core.job_queue import JobError, job_kind, start_job
from survey_app.core.refusals import UserError
from survey_app.extensions import db
from survey_app.models import (
    AuditEvent,
    Code,
    CodebookVersion,
    Coding,
    CodingRound,
    Job,
    ReconciliationDecision,
    Transcript,
    TranscriptVersion,
    User,
    round_coders,
    round_transcripts,
    utcnow,
)

CODER_ROLES = ("researcher", "admin")
#: DOMAIN: blind double coding of at least 20% of transcripts
DOUBLE_CODED_TARGET = 0.20
LEVELS = ("unit", "character", "document")
DECISIONS = ("keep", "drop")
AGREEMENT_JOB = "round_agreement"


class RoundError(UserError):
    """A user-facing refusal of a round operation (French and English)."""


class StaleRound(RoundError):
    """The round changed since the page was loaded."""

    def __init__(self) -> None:
        super().__init__(
            "Ce tour de codage a été modifié entre-temps (par vous ou par quelqu’un d’autre) : "
            "rien n’a été enregistré. Rechargez la page et recommencez.",
            "This coding round changed in the meantime (by you or someone else): nothing was "
            "saved. Reload the page and try again.",
        )


# --- reading rounds ------------------------------------------------------------------------


def is_coder(rnd: CodingRound, user: User) -> bool:
    return any(c.id == user.id for c in rnd.coders)


def done_dates(rnd: CodingRound) -> dict[int, Any]:
    """Return {coder id: done_dt or None} for the round."""
    rows = db.session.execute(
        sa.select(round_coders.c.user_id, round_coders.c.done_dt).where(
            round_coders.c.round_id == rnd.id
        )
    )
    return {user_id: done for user_id, done in rows}


def all_rounds() -> list[CodingRound]:
    return list(db.session.scalars(sa.select(CodingRound).order_by(CodingRound.created_dt.desc())))


def current_transcript_versions() -> list[TranscriptVersion]:
    """Return the newest version of every transcript (what a new round codes)."""
    newest = (
        sa.select(TranscriptVersion.transcript_id, sa.func.max(TranscriptVersion.number).label("n"))
        .group_by(TranscriptVersion.transcript_id)
        .subquery()
    )
    stmt = (
        sa.select(TranscriptVersion)
        .join(
            newest,
            sa.and_(
                newest.c.transcript_id == TranscriptVersion.transcript_id,
                newest.c.n == TranscriptVersion.number,
            ),
        )
        .order_by(TranscriptVersion.transcript_id)
        .options(defer(TranscriptVersion.text))  # lists must not pull whole corpora in
    )
    return list(db.session.scalars(stmt))


def text_lengths(ids: Iterable[int]) -> dict[int, int]:
    """Characters of each transcript version, counted by the database."""
    rows = db.session.execute(
        sa.select(TranscriptVersion.id, sa.func.length(TranscriptVersion.text)).where(
            TranscriptVersion.id.in_(list(ids))
        )
    )
    return {i: int(n or 0) for i, n in rows}


def double_coded_share() -> tuple[int, int]:
    """Return (transcripts with a version in a round of two or more coders, all transcripts)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Transcript)) or 0
    many = (
        sa.select(round_coders.c.round_id)
        .group_by(round_coders.c.round_id)
        .having(sa.func.count() >= 2)
    )
    covered = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(TranscriptVersion.transcript_id)))
        .join(round_transcripts, round_transcripts.c.transcript_version_id == TranscriptVersion.id)
        .where(round_transcripts.c.round_id.in_(many))
    )
    return int(covered or 0), int(total)


def rounds_of_transcripts() -> dict[int, list[CodingRound]]:
    """Return {transcript version id: rounds it is in}."""
    out: dict[int, list[CodingRound]] = {}
    for rnd in all_rounds():
        for tv in rnd.transcript_versions:
            out.setdefault(tv.id, []).append(rnd)
    return out


def original_codings(rnd: CodingRound, coder: User | None = None) -> list[Coding]:
    """The coders' own live codings made in this round (consensus codings excluded)."""
    stmt = sa.select(Coding).where(
        Coding.round_id == rnd.id,
        Coding.source != "consensus",
        Coding.status.in_(LIVE_STATUSES),
        Coding.coder_id.in_([c.id for c in rnd.coders]),
        Coding.transcript_version_id.in_([tv.id for tv in rnd.transcript_versions]),
    )
    if coder is not None:
        stmt = stmt.where(Coding.coder_id == coder.id)
    return list(db.session.scalars(stmt.order_by(Coding.start, Coding.id)))


def counts_by_coder(rnd: CodingRound) -> dict[tuple[int, str], int]:
    """{(transcript version id, coder username): original codings} of a closed round."""
    if rnd.status == "open":
        return {}
    frame = _coding_frame(rnd)
    return {
        (int(d), str(c)): int(n) for (d, c), n in frame.groupby(["doc", "coder"]).size().items()
    }


def own_progress(rnd: CodingRound, user: User) -> dict[int, int]:
    """Return {transcript version id: number of the user's own codings in this round}."""
    counts = {tv.id: 0 for tv in rnd.transcript_versions}
    for coding in original_codings(rnd, user):
        counts[coding.transcript_version_id] += 1
    return counts


# --- creating a round and marking it done --------------------------------------------------


def create_round(
    creator: User,
    name: str,
    transcript_versions: Iterable[TranscriptVersion],
    coders: Iterable[User],
    codebook_version: CodebookVersion | None,
) -> CodingRound:
    """Open a blind round on these transcript versions for two or more researchers."""
    name = (name or "").strip()
    versions = _unique(transcript_versions)
    people = _unique(coders)
    _check_new_round(creator, name, versions, people, codebook_version)
    rnd = CodingRound(
        name=name,
        status="open",
        codebook_version_id=codebook_version.id,
        created_by_id=creator.id,
        coders=people,
        transcript_versions=versions,
    )
    db.session.add(rnd)
    db.session.flush()
    record(
        "round.create",
        rnd,
        {
            "name": name,
            "coders": [u.username for u in people],
            "transcript_versions": [tv.id for tv in versions],
            "codebook_version": codebook_version.version,
        },
        user=creator,
    )
    return rnd


def earlier_codings(rnd: CodingRound) -> dict[str, int]:
    """Coders' live codings on the round's texts made outside it (they will not count in it)."""
    rows = db.session.execute(
        sa.select(User.username, sa.func.count(Coding.id))
        .join(User, User.id == Coding.coder_id)
        .where(
            Coding.transcript_version_id.in_([tv.id for tv in rnd.transcript_versions]),
            Coding.coder_id.in_([u.id for u in rnd.coders]),
            Coding.status.in_(LIVE_STATUSES),
            sa.or_(Coding.round_id.is_(None), Coding.round_id != rnd.id),
        )
        .group_by(User.username)
    )
    return {name: int(n) for name, n in rows}


def _unique(items: Iterable[Any]) -> list[Any]:
    return list({item.id: item for item in items if item is not None}.values())


def _check_new_round(creator, name, versions, people, codebook_version) -> None:
    if creator.role not in CODER_ROLES:
        raise RoundError(
            "Seuls les chercheurs créent des tours.", "Only researchers create rounds."
        )
    if not name:
        raise RoundError("Donnez un nom au tour.", "Give the round a name.")
    if len(people) < 2:
        raise RoundError(
            "Un double codage en aveugle demande au moins deux codeurs.",
            "Blind double coding needs at least two coders.",
        )
    if any(u.role not in CODER_ROLES or not u.is_enabled for u in people):
        raise RoundError(
            "Les codeurs doivent être des chercheurs ou des administrateurs actifs.",
            "Coders must be active researchers or administrators.",
        )
    if not versions:
        raise RoundError(
            "Choisissez au moins une transcription.", "Choose at least one transcript."
        )
    if codebook_version is None:
        raise RoundError("Aucun livre de codes n’est chargé.", "No codebook is loaded yet.")
    _check_current_versions(versions)
    _check_not_in_open_round(versions, people)


def _check_not_in_open_round(versions: list[TranscriptVersion], people: list[User]) -> None:
    """A coder's new codings go to one open round: two open rounds may not share a cell."""
    for user in people:
        busy = blind_transcript_ids(user) & {tv.id for tv in versions}
        if busy:
            raise RoundError(
                f"{user.username} code déjà une de ces transcriptions dans un tour ouvert.",
                f"{user.username} already codes one of these transcripts in an open round.",
            )


def _check_current_versions(versions: list[TranscriptVersion]) -> None:
    current = {tv.id for tv in current_transcript_versions()}
    stale = [tv for tv in versions if tv.id not in current]
    if stale:
        raise RoundError(
            "Une transcription choisie n’est plus la version en vigueur ; rechargez la page.",
            "A chosen transcript is no longer the current version; reload the page.",
        )


def _check_version(rnd: CodingRound, expected_version: int | None) -> None:
    if expected_version is None or rnd.version != int(expected_version):
        raise StaleRound()


def _touch(rnd: CodingRound) -> None:
    """Bump the round's version (optimistic lock) even when only related rows change."""
    flag_modified(rnd, "name")
    try:
        db.session.flush()
    except StaleDataError:
        raise StaleRound() from None


def _check_open_coder(rnd: CodingRound, user: User) -> None:
    if not is_coder(rnd, user):
        raise RoundError("Vous ne codez pas dans ce tour.", "You are not a coder of this round.")
    if rnd.status != "open":
        raise RoundError("Ce tour est déjà clos.", "This round is already closed.")


def _set_done(rnd: CodingRound, user: User, value: Any) -> None:
    db.session.execute(
        round_coders.update()
        .where(round_coders.c.round_id == rnd.id, round_coders.c.user_id == user.id)
        .values(done_dt=value)
    )


def mark_done(rnd: CodingRound, user: User) -> bool:
    """Mark the user's part done; close the round when every coder is done. Return closed.

    No stale-page check: another coder's "done" since the page loaded must not refuse this
    one; two at the same instant are still serialised by the round's version column.
    """
    _check_open_coder(rnd, user)
    if done_dates(rnd).get(user.id) is not None:
        raise RoundError("Vous avez déjà terminé ce tour.", "You already marked this round done.")
    _set_done(rnd, user, utcnow())
    _touch(rnd)
    record("round.coder_done", rnd, {"coder": user.username}, user=user)
    if all(done is not None for done in done_dates(rnd).values()):
        _close(rnd, user)
        return True
    return False


def undo_done(rnd: CodingRound, user: User) -> None:
    """Take back one's "done" while the round is still open."""
    _check_open_coder(rnd, user)
    if done_dates(rnd).get(user.id) is None:
        raise RoundError("Vous n’aviez pas terminé ce tour.", "You had not marked this round done.")
    _set_done(rnd, user, None)
    _touch(rnd)
    record("round.coder_undone", rnd, {"coder": user.username}, user=user)


def _close(rnd: CodingRound, user: User) -> None:
    """Close the round and freeze its original codings in the audit trail."""
    frame = _live_coding_frame(rnd)
    rnd.status = "closed"
    rnd.closed_dt = utcnow()
    db.session.flush()
    counts = {c.username: int((frame["coder"] == c.username).sum()) for c in rnd.coders}
    snapshot = [
        [int(r.id), int(r.doc), str(r.coder), int(r.start), int(r.end), str(r.code)]
        for r in frame.itertuples(index=False)
    ]
    record(
        "round.close",
        rnd,
        {"reason": "all coders done", "codings": counts, "snapshot": snapshot},
        user=user,
    )


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


FRAME_COLUMNS = ["doc", "coder", "start", "end", "code", "id"]


def _coding_frame(rnd: CodingRound) -> pd.DataFrame:
    """The round's original codings: frozen at closure, so later edits cannot move agreement."""
    if rnd.status != "open":
        frozen = _snapshot(rnd)
        if frozen is not None:
            return frozen
    return _live_coding_frame(rnd)


def _snapshot(rnd: CodingRound) -> pd.DataFrame | None:
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(
            AuditEvent.action == "round.close",
            AuditEvent.object_type == CodingRound.__tablename__,
            AuditEvent.object_id == str(rnd.id),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    if event is None or "snapshot" not in (event.payload or {}):
        return None
    rows = [
        {"id": i, "doc": doc, "coder": coder, "start": start, "end": end, "code": code}
        for i, doc, coder, start, end, code in event.payload["snapshot"]
    ]
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def _live_coding_frame(rnd: CodingRound) -> pd.DataFrame:
    rows = [
        {
            "doc": c.transcript_version_id,
            "coder": c.coder.username,
            "start": c.start,
            "end": c.end,
            "code": c.code.key,
            "id": c.id,
        }
        for c in original_codings(rnd)
    ]
    return pd.DataFrame(rows, columns=FRAME_COLUMNS)


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


# --- reconciliation ---------------------------------------------------------------------------


@dataclass
class Item:
    """One (transcript, turn, code) cell: who applied the code there and what was decided."""

    transcript_version_id: int
    start: int
    end: int
    code: str
    coded_by: list[str]
    not_coded_by: list[str]
    coding_ids: list[int]
    spans: list[tuple[int, int]] = field(default_factory=list)
    #: coder -> their spans of this code in the turn, clipped to the turn
    by_coder: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    decision: ReconciliationDecision | None = None

    @property
    def agreed(self) -> bool:
        return not self.not_coded_by

    @property
    def key(self) -> tuple[int, int, int, str]:
        return (self.transcript_version_id, self.start, self.end, self.code)


def reconciliation_items(rnd: CodingRound) -> list[Item]:
    """Every turn × code that at least one coder applied, with its latest decision."""
    coders = _coders(rnd)
    latest = latest_decisions(rnd)
    items = []
    for (doc, start, end), pieces in sorted(turn_cells(_coding_frame(rnd), _turns(rnd)).items()):
        for code in sorted({p[4] for p in pieces}):
            mine = [p for p in pieces if p[4] == code]
            by = sorted({p[0] for p in mine})
            item = Item(
                doc,
                start,
                end,
                code,
                by,
                [c for c in coders if c not in by],
                sorted(p[1] for p in mine),
                spans=[(p[2], p[3]) for p in mine],
                by_coder={c: [(p[2], p[3]) for p in mine if p[0] == c] for c in coders},
            )
            item.decision = latest.get(item.key)
            items.append(item)
    return items


def latest_decisions(rnd: CodingRound) -> dict[tuple[int, int, int, str], ReconciliationDecision]:
    stmt = (
        sa.select(ReconciliationDecision)
        .where(ReconciliationDecision.round_id == rnd.id)
        .order_by(ReconciliationDecision.decided_dt, ReconciliationDecision.id)
    )
    out = {}
    for d in db.session.scalars(stmt):
        code = db.session.get(Code, d.code_id)
        out[(d.transcript_version_id, d.start, d.end, code.key)] = d
    return out


def check_not_blind(rnd: CodingRound, user: User) -> None:
    """Refuse someone still coding one of the round's transcripts blind in another round.

    The reconciliation view shows who coded what; seeing it would unblind them.
    """
    if blind_transcript_ids(user) & {tv.id for tv in rnd.transcript_versions}:
        raise RoundError(
            "Vous codez en aveugle une de ces transcriptions dans un autre tour ouvert : la "
            "réconciliation de ce tour vous sera ouverte quand ce tour-là sera clos.",
            "You are blind-coding one of these transcripts in another open round: this round's "
            "reconciliation opens to you when that round closes.",
        )


def _check_reconcilable(rnd: CodingRound, user: User, expected_version: int | None) -> None:
    if user.role not in CODER_ROLES:
        raise RoundError("Seuls les chercheurs réconcilient.", "Only researchers reconcile.")
    check_not_blind(rnd, user)
    if rnd.status != "closed":
        raise RoundError(
            "Seul un tour clos (et pas encore réconcilié) se réconcilie.",
            "Only a closed round that is not reconciled yet can be reconciled.",
        )
    _check_version(rnd, expected_version)


def _find_item(
    rnd: CodingRound, transcript_version_id: int, start: int, end: int, code: str
) -> Item:
    if transcript_version_id not in {tv.id for tv in rnd.transcript_versions}:
        raise RoundError(
            "Cette transcription ne fait pas partie du tour.",
            "This transcript is not part of the round.",
        )
    if code not in round_codes(rnd):
        raise RoundError(
            f"Code inconnu dans le livre de codes du tour : {code}.",
            f"Unknown code in the round's codebook: {code}.",
        )
    for item in reconciliation_items(rnd):
        if item.key == (transcript_version_id, start, end, code):
            return item
    raise RoundError(
        "Aucun codeur n’a appliqué ce code à ce tour de parole.",
        "No coder applied this code to this speaker turn.",
    )


def decide(
    rnd: CodingRound,
    user: User,
    expected_version: int | None,
    transcript_version_id: int,
    start: int,
    end: int,
    code: str,
    decision: str,
    rationale: str = "",
) -> ReconciliationDecision:
    """Record keep/drop for one turn × code; "keep" makes a consensus coding. Originals stay."""
    _check_reconcilable(rnd, user, expected_version)
    if decision not in DECISIONS:
        raise RoundError("Décision : garder ou écarter.", "Decision must be keep or drop.")
    item = _find_item(rnd, transcript_version_id, start, end, code)
    made = _record_decision(rnd, user, item, decision, (rationale or "").strip())
    _touch(rnd)
    return made


def _record_decision(
    rnd: CodingRound, user: User, item: Item, decision: str, rationale: str
) -> ReconciliationDecision:
    if item.decision is not None and item.decision.consensus_coding_id:
        # a new decision supersedes the previous one: its consensus coding is withdrawn, kept
        previous = db.session.get(Coding, item.decision.consensus_coding_id)
        previous.status = "deleted"
    code = round_codes(rnd)[item.code]
    consensus = _consensus_coding(rnd, user, item, code) if decision == "keep" else None
    made = ReconciliationDecision(
        round_id=rnd.id,
        transcript_version_id=item.transcript_version_id,
        start=item.start,
        end=item.end,
        code_id=code.id,
        decision=decision,
        source_coding_ids=item.coding_ids,
        consensus_coding_id=consensus.id if consensus else None,
        rationale=rationale,
        decided_by_id=user.id,
    )
    db.session.add(made)
    db.session.flush()
    record(
        "round.decide",
        made,
        {
            "round": rnd.id,
            "transcript_version": item.transcript_version_id,
            "turn": [item.start, item.end],
            "code": item.code,
            "decision": decision,
            "coded_by": item.coded_by,
            "source_codings": item.coding_ids,
            "consensus_coding": made.consensus_coding_id,
            "rationale": rationale,
        },
        user=user,
    )
    return made


def _consensus_coding(rnd: CodingRound, user: User, item: Item, code: Code) -> Coding:
    """The consensus span covers what the coders coded inside the turn."""
    start = min(s for s, _ in item.spans)
    end = max(e for _, e in item.spans)
    coding = Coding(
        transcript_version_id=item.transcript_version_id,
        start=start,
        end=end,
        code_id=code.id,
        coder_id=user.id,
        source="consensus",
        status="active",
        round_id=rnd.id,
        memo="",
    )
    db.session.add(coding)
    db.session.flush()
    record(
        "coding.create",
        coding,
        {
            "transcript_version": item.transcript_version_id,
            "start": start,
            "end": end,
            "code": item.code,
            "round": rnd.id,
            "source": "consensus",
        },
        user=user,
    )
    return coding


def accept_agreements(rnd: CodingRound, user: User, expected_version: int | None) -> int:
    """Keep, as consensus, every turn × code all coders applied and nobody decided yet."""
    _check_reconcilable(rnd, user, expected_version)
    todo = [i for i in reconciliation_items(rnd) if i.agreed and i.decision is None]
    for item in todo:
        _record_decision(rnd, user, item, "keep", "")
    _touch(rnd)
    return len(todo)


def open_disagreements(rnd: CodingRound) -> list[Item]:
    return [i for i in reconciliation_items(rnd) if not i.agreed and i.decision is None]


def mark_reconciled(rnd: CodingRound, user: User, expected_version: int | None) -> None:
    """Mark the round reconciled once every disagreement has a decision."""
    _check_reconcilable(rnd, user, expected_version)
    left = len(open_disagreements(rnd))
    if left:
        raise RoundError(
            f"Il reste {left} désaccord(s) sans décision.",
            f"{left} disagreement(s) still have no decision.",
        )
    rnd.status = "reconciled"
    _touch(rnd)
    record("round.reconciled", rnd, {"decisions": len(latest_decisions(rnd))}, user=user)
