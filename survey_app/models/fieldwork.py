"""Instrument versions, interviews, their answers and their transcripts."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.models.base import Base, choice, utcnow
from survey_app.models.territories import Organisation
from survey_app.models.users import User

RESPONDENT_TYPES = ("sme", "relay")
INTERVIEW_STATUSES = ("draft", "submitted", "has_issues", "approved", "rejected")
MISSING_KINDS = ("dont_know", "refused", "not_asked")


class InstrumentVersion(Base):
    """An interview guide as loaded from instruments/*.yaml; immutable once loaded."""

    __tablename__ = "instrument_versions"
    __table_args__ = (sa.UniqueConstraint("instrument_key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the instrument's `id` in its YAML file, e.g. sme_manager
    instrument_key: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    respondent_type: Mapped[str] = mapped_column(choice(*RESPONDENT_TYPES, name="respondent_type"))
    title_fr: Mapped[str] = mapped_column(sa.String(300))
    title_en: Mapped[str] = mapped_column(sa.String(300))
    #: sha256 of the YAML file's bytes
    sha256: Mapped[str] = mapped_column(sa.String(64))
    source_yaml: Mapped[str] = mapped_column(sa.Text)
    #: the parsed instrument, as validated at load time
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    loaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    loaded_dt: Mapped[datetime] = mapped_column(default=utcnow)


class Interview(Base):
    __tablename__ = "interviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_version_id: Mapped[int] = mapped_column(sa.ForeignKey("instrument_versions.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    fieldworker_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    interview_date: Mapped[date | None]
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    #: the respondent's function in the organisation, coarsened on export
    respondent_role: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(
        choice(*INTERVIEW_STATUSES, name="interview_status"), default="draft", index=True
    )
    review_comment: Mapped[str] = mapped_column(sa.Text, default="")
    consent_processing: Mapped[bool] = mapped_column(default=False)
    consent_participation: Mapped[bool] = mapped_column(default=False)
    consent_recording: Mapped[bool] = mapped_column(default=False)
    consent_dt: Mapped[datetime | None]
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_dt: Mapped[datetime | None]
    #: the submission an imported interview came from (ODK meta/instanceID or KEY, Kobo
    #: _uuid or meta/rootUuid, without "uuid:"), so a re-import finds it again
    instance_id: Mapped[str | None] = mapped_column(sa.String(100), unique=True)
    #: optimistic lock: a save based on an older version is refused
    version: Mapped[int] = mapped_column(default=1)

    instrument_version: Mapped[InstrumentVersion] = relationship()
    organisation: Mapped[Organisation] = relationship()
    fieldworker: Mapped[User] = relationship()
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="interview", cascade="all, delete-orphan"
    )
    transcripts: Mapped[list["Transcript"]] = relationship(
        back_populates="interview", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class Answer(Base):
    """One answer; a missing answer keeps its kind instead of being blank."""

    __tablename__ = "answers"
    __table_args__ = (
        sa.UniqueConstraint("interview_id", "question_key"),
        sa.CheckConstraint("value IS NULL OR missing IS NULL", name="value_or_missing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interviews.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(sa.String(32))
    #: the answer as text (numbers and dates in ISO form, multiple choices space-separated)
    value: Mapped[str | None] = mapped_column(sa.Text)
    missing: Mapped[str | None] = mapped_column(choice(*MISSING_KINDS, name="missing_kind"))
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    interview: Mapped[Interview] = relationship(back_populates="answers")


class Transcript(Base):
    """The transcript of an interview; its text lives in numbered, hashed versions."""

    __tablename__ = "transcripts"

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(
        sa.ForeignKey("interviews.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    #: notes on the whole transcript (e.g. a REFI-QDA source's description and notes)
    memo: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    interview: Mapped[Interview] = relationship(back_populates="transcripts")
    versions: Mapped[list["TranscriptVersion"]] = relationship(
        back_populates="transcript",
        order_by="TranscriptVersion.number",
        cascade="all, delete-orphan",
    )

    @property
    def current(self) -> "TranscriptVersion | None":
        return self.versions[-1] if self.versions else None


class TranscriptVersion(Base):
    """Normalised plain text (NFC, \\n line ends); codings point into it by character offsets."""

    __tablename__ = "transcript_versions"
    __table_args__ = (sa.UniqueConstraint("transcript_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(sa.ForeignKey("transcripts.id", ondelete="CASCADE"))
    number: Mapped[int]
    text: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    source_filename: Mapped[str] = mapped_column(sa.String(255), default="")
    #: how the text came in: paste, txt, docx, vtt, srt, refi
    source_format: Mapped[str] = mapped_column(sa.String(10), default="paste")
    language: Mapped[str] = mapped_column(sa.String(8), default="fr")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)

    transcript: Mapped[Transcript] = relationship(back_populates="versions")
    segments: Mapped[list["Segment"]] = relationship(
        back_populates="transcript_version",
        order_by="Segment.start",
        cascade="all, delete-orphan",
    )


class Segment(Base):
    """A speaker turn or a sentence: the span [start, end) of a transcript version."""

    __tablename__ = "segments"
    __table_args__ = (sa.CheckConstraint('start >= 0 AND start <= "end"', name="span"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transcript_versions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(choice("turn", "sentence", name="segment_kind"))
    #: the turn a sentence belongs to
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("segments.id"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    speaker: Mapped[str | None] = mapped_column(sa.String(100))

    transcript_version: Mapped[TranscriptVersion] = relationship(back_populates="segments")
