"""Reading helpers for the rounds pages (filters, labels, turn texts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import CodebookVersion, CodingRound, TranscriptVersion, User
from survey_app.rounds import agreement as agreement_svc
from survey_app.rounds import lifecycle as svc


def transcript_filters(args: Mapping[str, str]) -> dict[str, str]:
    """Read the transcript filters of the new-round page: kind, text, not yet in a round."""
    kind = args.get("kind", "")
    return {
        "kind": kind if kind in ("sme", "relay") else "",
        "q": (args.get("q") or "").strip()[:100],
        "free": "1" if args.get("free") == "1" else "",
    }


def _label(tv: TranscriptVersion) -> str:
    org = tv.transcript.interview.organisation
    return f"{org.pseudonym} {org.name}".lower()


def filtered_versions(filters: dict[str, str]) -> list[TranscriptVersion]:
    """Current transcript versions matching the filters."""
    versions = svc.current_transcript_versions()
    if filters["kind"]:
        versions = [
            tv for tv in versions if tv.transcript.interview.organisation.kind == filters["kind"]
        ]
    if filters["q"]:
        needle = filters["q"].lower()
        versions = [tv for tv in versions if needle in _label(tv)]
    if filters["free"]:
        taken = svc.rounds_of_transcripts()
        versions = [tv for tv in versions if tv.id not in taken]
    return versions


def possible_coders() -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role.in_(svc.CODER_ROLES), User.is_enabled)
            .order_by(User.username)
        )
    )


def codebook_of(rnd: CodingRound) -> CodebookVersion | None:
    return db.session.get(CodebookVersion, rnd.codebook_version_id)


def code_labels(rnd: CodingRound, lang: str) -> dict[str, str]:
    """Labels of codes and families in the interface language."""
    labels: dict[str, str] = {}
    for key, code in agreement_svc.round_codes(rnd).items():
        labels[key] = code.label_fr if lang == "fr" else code.label_en
    book = codebook_of(rnd)
    for family, spec in ((book.content or {}).get("families") or {}).items() if book else ():
        label = (spec or {}).get("label") or {}
        labels[family] = label.get(lang) or label.get("fr") or family
    return labels


def turn_texts(rnd: CodingRound) -> dict[tuple[int, int, int], dict[str, Any]]:
    """{(transcript version, start, end): {speaker, text, title}} for every turn of the round."""
    out = {}
    for tv in rnd.transcript_versions:
        speakers = {(s.start, s.end): s.speaker for s in tv.segments if s.kind == "turn"}
        org = tv.transcript.interview.organisation
        for start, end in agreement_svc.turns_of(tv):
            out[(tv.id, start, end)] = {
                "speaker": speakers.get((start, end)) or "",
                "text": tv.text[start:end],
                "title": f"{org.pseudonym} · v{tv.number}",
            }
    return out


def highlight(text: str, offset: int, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Cut a turn's text into (piece, coded?) pieces for the spans (absolute offsets)."""
    marks = [False] * len(text)
    for start, end in spans:
        for i in range(max(start - offset, 0), min(end - offset, len(text))):
            marks[i] = True
    pieces: list[tuple[str, bool]] = []
    for ch, mark in zip(text, marks, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + ch, mark)
        else:
            pieces.append((ch, mark))
    return pieces


def user_names() -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in db.session.scalars(sa.select(User))}
