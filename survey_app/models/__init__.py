"""Every model, importable from one place (Alembic's autogenerate reads them all)."""

from survey_app.models.base import Base, utcnow
from survey_app.models.coding import (
    Code,
    CodebookProposal,
    CodebookVersion,
    Coding,
    CodingRound,
    ModelVersion,
    ReconciliationDecision,
    round_coders,
    round_transcripts,
)
from survey_app.models.fieldwork import (
    Answer,
    InstrumentVersion,
    Interview,
    Segment,
    Transcript,
    TranscriptVersion,
)
from survey_app.models.system import AuditEvent, Job, PseudonymEntry
from survey_app.models.territories import Organisation, Territory
from survey_app.models.users import ApiToken, LoginAttempt, User

__all__ = [
    "Answer",
    "ApiToken",
    "AuditEvent",
    "Base",
    "Code",
    "CodebookProposal",
    "CodebookVersion",
    "Coding",
    "CodingRound",
    "InstrumentVersion",
    "Interview",
    "Job",
    "LoginAttempt",
    "ModelVersion",
    "Organisation",
    "PseudonymEntry",
    "ReconciliationDecision",
    "Segment",
    "Territory",
    "Transcript",
    "TranscriptVersion",
    "User",
    "round_coders",
    "round_transcripts",
    "utcnow",
]
