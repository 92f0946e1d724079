"""Background jobs, the append-only audit trail and the pseudonymisation key."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from survey_app.models.base import Base, choice, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(Base):
    """Long work started from the web; pages read progress and result from here."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[str] = mapped_column(choice(*JOB_STATUSES, name="job_status"), default="queued")
    #: 0..1
    progress: Mapped[float] = mapped_column(default=0.0)
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    started_dt: Mapped[datetime | None]
    finished_dt: Mapped[datetime | None]
    #: times a worker started it (a job whose worker died is retried once)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    #: "host:pid" of the worker running it
    worker: Mapped[str | None] = mapped_column(sa.String(100))
    #: last sign of life of that worker; past the lease the job is taken back
    heartbeat_dt: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what, when, with what payload. Rows are only ever inserted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_dt: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    #: dotted verb, e.g. interview.submit, coding.delete, db.restore
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(64))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))


class PseudonymEntry(Base):
    """The correspondence key: an original name and its stable token. Admins only."""

    __tablename__ = "pseudonym_entries"
    __table_args__ = (sa.UniqueConstraint("kind", "original_normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(choice("person", "firm", "place", name="pseudonym_kind"))
    original: Mapped[str] = mapped_column(sa.String(300))
    #: lower case, accents folded: the matching key
    original_normalised: Mapped[str] = mapped_column(sa.String(300))
    #: PERS_001, FIRM_001, LIEU_001
    token: Mapped[str] = mapped_column(sa.String(20), unique=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
