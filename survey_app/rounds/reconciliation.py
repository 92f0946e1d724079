"""Reconciliation of a closed round: keep or drop each disagreement, then mark it reconciled."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from survey_app.codings.operations import blind_transcript_ids
from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import (
    Code,
    Coding,
    CodingRound,
    ReconciliationDecision,
    User,
)
from survey_app.rounds.agreement import _coders, _coding_frame, _turns, round_codes, turn_cells
from survey_app.rounds.lifecycle import CODER_ROLES, RoundError, _check_version, _touch

DECISIONS = ("keep", "drop")


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
