"""Shared seeding of the export and API tests (no tests here): a small coded project."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from milieu_testing import CONSENT

from survey_app.codings.codebook_versions import codes_by_key, current_codebook
from survey_app.codings.operations import create_coding
from survey_app.extensions import db
from survey_app.fieldwork import operations as ops
from survey_app.models import InstrumentVersion

PERSON = "Mathilde Vidalenc"
FIRM = "Tonnellerie Vidalenc"
OTHER_FIRM = "Chaudronnerie Brassac"
TEXT = (
    f"Enquêteur : Comment travaillez-vous avec la CCI ?\n"
    f"Interviewé : Chez {FIRM}, c'est {PERSON} qui suit l'export, la conseillère est à "
    f"dix minutes.\n"
    f"Enquêteur : Et la Région ?\n"
    f"Interviewé : La Région fixe le cap ; {OTHER_FIRM} nous a emmenés au Japon.\n"
)
NAMES = (PERSON, FIRM, OTHER_FIRM, "Vidalenc", "Brassac")


def seed_project(app) -> dict[str, int]:
    """Two interviews, one coded transcript by two researchers; return ids by name."""
    with app.app_context():
        users = {}
        for name, role in (
            ("ines", "fieldworker"),
            ("camille", "researcher"),
            ("louis", "researcher"),
            ("root", "admin"),
        ):
            from survey_app.auth.operations import create_user

            users[name] = create_user(name, role, "correct horse")
        sme = db.session.scalar(
            sa.select(InstrumentVersion).where(InstrumentVersion.instrument_key == "sme_manager")
        )
        firm = ops.create_organisation(None, kind="sme", name=FIRM)
        other = ops.create_organisation(None, kind="sme", name=OTHER_FIRM)
        first = ops.create_interview(users["ines"], sme, firm, date(2026, 11, 2))
        ops.save_answers(
            first,
            {**CONSENT, "a1": f"Avec {PERSON}, {FIRM} vend au Japon."},
            first.version,
            users["ines"],
        )
        second = ops.create_interview(users["camille"], sme, other, date(2026, 11, 3))
        version = ops.save_transcript(first, TEXT, users["ines"])
        codes = codes_by_key(current_codebook())
        turn = TEXT.index("Interviewé : Chez")
        create_coding(
            version, turn, turn + 60, codes["GOV.PROX"], users["camille"], valence=1, intensity=2
        )
        start = TEXT.index("La Région fixe")
        create_coding(version, start, start + 25, codes["GOV.PILOT"], users["louis"])
        create_coding(version, start, start + 25, codes["GOV.PILOT"], users["camille"], intensity=3)
        db.session.commit()
        return {
            "first": first.id,
            "second": second.id,
            "version": version.id,
            **{n: u.id for n, u in users.items()},
        }
