"""Transcripts to code and the case attributes of their interviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import defer, selectinload

from survey_app.codings.operations import LIVE_STATUSES, blind_transcript_ids
from survey_app.extensions import db
from survey_app.models import (
    Coding,
    Interview,
    Organisation,
    Territory,
    Transcript,
    TranscriptVersion,
    User,
)

TERRITORY_LEVELS = ("commune", "departement", "region", "zone_emploi")


@dataclass
class Case:
    """One interview with a transcript, as the coding pages show it."""

    interview: Interview
    version: TranscriptVersion

    @property
    def organisation(self) -> Organisation:
        return self.interview.organisation

    @property
    def respondent_type(self) -> str:
        return self.interview.instrument_version.respondent_type

    @property
    def pseudonym(self) -> str:
        return self.organisation.pseudonym

    @property
    def naf_code(self) -> str | None:
        return self.organisation.naf_code

    @property
    def naf_section(self) -> str | None:
        return self.naf_code[:2] if self.naf_code else None

    @property
    def size_band(self) -> str | None:
        return self.organisation.size_band

    @property
    def when(self) -> date | None:
        return self.interview.interview_date

    def territory(self, level: str = "commune") -> Territory | None:
        place = self.organisation.territory
        return place.ancestor(level) if place is not None else None

    def territory_name(self, level: str = "commune") -> str:
        place = self.territory(level) or self.organisation.territory
        return place.name if place is not None else "—"


def current_cases() -> list[Case]:
    """Return every interview's current transcript version, oldest interview first."""
    stmt = (
        sa.select(Interview)
        .join(Transcript, Transcript.interview_id == Interview.id)
        .options(
            # texts load when used: a list of long transcripts need not hold them all
            selectinload(Interview.transcripts)
            .selectinload(Transcript.versions)
            .options(defer(TranscriptVersion.text)),
            selectinload(Interview.organisation).selectinload(Organisation.territory),
            selectinload(Interview.instrument_version),
        )
        .order_by(Interview.interview_date, Interview.id)
        .distinct()
    )
    cases = []
    for interview in db.session.scalars(stmt):
        current = interview.transcripts[0].current if interview.transcripts else None
        if current is not None:
            cases.append(Case(interview, current))
    return cases


def case_for(version: TranscriptVersion) -> Case:
    return Case(version.transcript.interview, version)


def filter_cases(
    cases: list[Case],
    respondent_type: str = "",
    territory_id: int | None = None,
    size_band: str = "",
    naf_section: str = "",
) -> list[Case]:
    """Keep the cases matching every given attribute (a territory matches its descendants)."""
    out = []
    for case in cases:
        if respondent_type and case.respondent_type != respondent_type:
            continue
        if size_band and case.size_band != size_band:
            continue
        if naf_section and case.naf_section != naf_section:
            continue
        if territory_id and not _within(case, territory_id):
            continue
        out.append(case)
    return out


def _within(case: Case, territory_id: int) -> bool:
    place = case.organisation.territory
    while place is not None:
        if place.id == territory_id or place.zone_emploi_id == territory_id:
            return True
        place = place.parent
    return False


def territories_of(cases: list[Case]) -> list[Territory]:
    """Territories (and their ancestors) the cases lie in, for filter menus."""
    seen: dict[int, Territory] = {}
    for case in cases:
        place = case.organisation.territory
        while place is not None:
            seen[place.id] = place
            place = place.parent
    return sorted(seen.values(), key=lambda t: (TERRITORY_LEVELS.index(t.level), t.name))


def text_lengths(version_ids: list[int]) -> dict[int, int]:
    """Return the length in characters of each transcript version's text."""
    return dict(
        db.session.execute(
            sa.select(TranscriptVersion.id, sa.func.length(TranscriptVersion.text)).where(
                TranscriptVersion.id.in_(version_ids)
            )
        ).all()
    )


def coding_counts(user: User, version_ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    """Return the user's own live codings and the pending suggestions they may see, per version."""
    own = dict(
        db.session.execute(
            sa.select(Coding.transcript_version_id, sa.func.count(Coding.id))
            .where(
                Coding.transcript_version_id.in_(version_ids),
                Coding.coder_id == user.id,
                Coding.status.in_(LIVE_STATUSES),
                Coding.source != "model",
            )
            .group_by(Coding.transcript_version_id)
        ).all()
    )
    blind = blind_transcript_ids(user)
    pending = dict(
        db.session.execute(
            sa.select(Coding.transcript_version_id, sa.func.count(Coding.id))
            .where(
                Coding.transcript_version_id.in_(version_ids),
                Coding.status == "suggested",
            )
            .group_by(Coding.transcript_version_id)
        ).all()
    )
    # a coder in an open blind round sees no suggestions on its transcripts
    return own, {k: v for k, v in pending.items() if k not in blind}
