"""Operations on organisations and interviews; they flush, the caller commits."""

from __future__ import annotations

import sqlalchemy as sa

from survey_app.extensions import db
from survey_app.models import Organisation

PSEUDONYM_PREFIX = {"sme": "PME", "relay": "REL"}


def next_pseudonym(kind: str) -> str:
    """Return the next free pseudonym code for an organisation of `kind` (PME_001, REL_001)."""
    prefix = PSEUDONYM_PREFIX[kind]
    taken = db.session.scalars(
        sa.select(Organisation.pseudonym).where(Organisation.pseudonym.like(f"{prefix}_%"))
    )
    numbers = [int(p.split("_", 1)[1]) for p in taken if p.split("_", 1)[1].isdigit()]
    return f"{prefix}_{max(numbers, default=0) + 1:03d}"
