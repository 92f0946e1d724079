"""Codebook versions, codes, codings, blind coding rounds and model versions."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from survey_app.models.base import Base, UTCDateTime, choice, utcnow
from survey_app.models.fieldwork import TranscriptVersion
from survey_app.models.users import User

FAMILIES = ("GOVERNANCE", "STRATEGY", "DYNAMICS", "OTHER")
#: codes brought by a REFI-QDA import under their own names, outside the four families
IMPORTED_FAMILY = "IMPORTED"
CODING_SOURCES = ("human", "model", "consensus")
#: a model suggestion is pending until a researcher accepts or rejects it
CODING_STATUSES = ("active", "suggested", "accepted", "rejected", "deleted")


class CodebookVersion(Base):
    """One immutable version of the codebook; changes make a new version."""

    __tablename__ = "codebook_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(32), unique=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    previous_id: Mapped[int | None] = mapped_column(sa.ForeignKey("codebook_versions.id"))
    #: why this version exists (a logged codebook revision)
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    is_current: Mapped[bool] = mapped_column(default=False)

    codes: Mapped[list["Code"]] = relationship(
        back_populates="codebook_version", order_by="Code.key", cascade="all, delete-orphan"
    )


class Code(Base):
    __tablename__ = "codes"
    __table_args__ = (sa.UniqueConstraint("codebook_version_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    codebook_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("codebook_versions.id", ondelete="CASCADE")
    )
    #: e.g. GOV.FRAG; an imported code keeps the name its tool gave it
    key: Mapped[str] = mapped_column(sa.String(200))
    family: Mapped[str] = mapped_column(choice(*FAMILIES, IMPORTED_FAMILY, name="code_family"))
    label_fr: Mapped[str] = mapped_column(sa.String(200))
    label_en: Mapped[str] = mapped_column(sa.String(200))
    definition: Mapped[str] = mapped_column(sa.Text, default="")
    retired: Mapped[bool] = mapped_column(default=False)
    #: a merged or renamed code points at the code that replaces it
    replaced_by_key: Mapped[str | None] = mapped_column(sa.String(200))
    #: an imported code's parent in its tool's code tree, and its colour (#RRGGBB)
    parent_key: Mapped[str | None] = mapped_column(sa.String(200))
    color: Mapped[str | None] = mapped_column(sa.String(7))

    codebook_version: Mapped[CodebookVersion] = relationship(back_populates="codes")


class CodebookProposal(Base):
    """A researcher's proposed codebook change, applied (or not) by an admin."""

    __tablename__ = "codebook_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        choice("add", "rename", "merge", "retire", "edit", name="proposal_kind")
    )
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    rationale: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(
        choice("open", "applied", "declined", name="proposal_status"), default="open"
    )
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    proposed_dt: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_dt: Mapped[datetime | None]
    result_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("codebook_versions.id"))


round_coders = sa.Table(
    "coding_round_coders",
    Base.metadata,
    sa.Column("round_id", sa.ForeignKey("coding_rounds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id"), primary_key=True),
    #: when the coder marked their part of the round done
    sa.Column("done_dt", UTCDateTime(), nullable=True),
)

round_transcripts = sa.Table(
    "coding_round_transcripts",
    Base.metadata,
    sa.Column("round_id", sa.ForeignKey("coding_rounds.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("transcript_version_id", sa.ForeignKey("transcript_versions.id"), primary_key=True),
)


class CodingRound(Base):
    """Blind double coding: each coder sees only their own codings until the round closes."""

    __tablename__ = "coding_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(
        choice("open", "closed", "reconciled", name="round_status"), default="open"
    )
    codebook_version_id: Mapped[int] = mapped_column(sa.ForeignKey("codebook_versions.id"))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    closed_dt: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    coders: Mapped[list[User]] = relationship(secondary=round_coders)
    transcript_versions: Mapped[list[TranscriptVersion]] = relationship(secondary=round_transcripts)

    __mapper_args__ = {"version_id_col": version}


class Coding(Base):
    """A code applied to the span [start, end) of a transcript version, by a coder or a model."""

    __tablename__ = "codings"
    __table_args__ = (
        sa.CheckConstraint('start >= 0 AND start < "end"', name="span"),
        sa.CheckConstraint("valence IS NULL OR valence IN (-1, 0, 1)", name="valence"),
        sa.CheckConstraint("intensity IS NULL OR intensity BETWEEN 0 AND 3", name="intensity"),
        sa.CheckConstraint("confidence IS NULL OR confidence BETWEEN 0 AND 1", name="confidence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("transcript_versions.id", ondelete="CASCADE"), index=True
    )
    segment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("segments.id"), index=True)
    start: Mapped[int]
    end: Mapped[int]
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("codes.id"), index=True)
    #: the human coder; for a model suggestion, None (see model_version_id)
    coder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    source: Mapped[str] = mapped_column(choice(*CODING_SOURCES, name="coding_source"))
    status: Mapped[str] = mapped_column(
        choice(*CODING_STATUSES, name="coding_status"), default="active"
    )
    model_version_id: Mapped[int | None] = mapped_column(sa.ForeignKey("model_versions.id"))
    confidence: Mapped[float | None]
    valence: Mapped[int | None]
    intensity: Mapped[int | None]
    memo: Mapped[str] = mapped_column(sa.Text, default="")
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coding_rounds.id"), index=True)
    #: for a coding made by accepting a suggestion: that suggestion
    suggestion_id: Mapped[int | None] = mapped_column(sa.ForeignKey("codings.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    code: Mapped[Code] = relationship()
    coder: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class ReconciliationDecision(Base):
    """How a disagreement of a blind round was settled; the coders' originals stay."""

    __tablename__ = "reconciliation_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("coding_rounds.id"), index=True)
    transcript_version_id: Mapped[int] = mapped_column(sa.ForeignKey("transcript_versions.id"))
    start: Mapped[int]
    end: Mapped[int]
    code_id: Mapped[int] = mapped_column(sa.ForeignKey("codes.id"))
    decision: Mapped[str] = mapped_column(choice("keep", "drop", name="reconciliation_decision"))
    #: the codings by each coder that the decision settles
    source_coding_ids: Mapped[list[int]] = mapped_column(sa.JSON)
    consensus_coding_id: Mapped[int | None] = mapped_column(sa.ForeignKey("codings.id"))
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_dt: Mapped[datetime] = mapped_column(default=utcnow)


class ModelVersion(Base):
    """A trained classifier on disk, used for suggestions only once a researcher activates it."""

    __tablename__ = "model_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    codebook_version_id: Mapped[int] = mapped_column(sa.ForeignKey("codebook_versions.id"))
    #: folder holding the skops file and its meta.json
    path: Mapped[str] = mapped_column(sa.String(500))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(choice("code", "family", name="model_level"))
    training_size: Mapped[int]
    metrics: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    is_active: Mapped[bool] = mapped_column(default=False)
    trained_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    trained_dt: Mapped[datetime] = mapped_column(default=utcnow)
