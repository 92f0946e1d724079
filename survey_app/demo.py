"""Demo data: users, territories, organisations, interviews and transcripts to try Milieu with."""

from __future__ import annotations

import os
from datetime import date
from importlib.resources import files
from pathlib import Path

import sqlalchemy as sa

from survey_app.auth.operations import create_user
from survey_app.extensions import db
from survey_app.models import Interview, Organisation, Territory, User

DEFAULT_DEMO_PASSWORD = "milieu-demo"

#: (user name, role, display name)
DEMO_USERS = (
    ("admin", "admin", "Admin Milieu"),
    ("camille", "researcher", "Camille Roux"),
    ("louis", "researcher", "Louis Garnier"),
    ("ines", "fieldworker", "Inès Benali"),
    ("marc", "fieldworker", "Marc Delorme"),
)

#: level, code, name, parent code, population, area km²
DEMO_TERRITORIES = (
    ("region", "76", "Occitanie", None, 6_053_548, 72_724.0),
    ("region", "84", "Auvergne-Rhône-Alpes", None, 8_114_361, 69_711.0),
    ("departement", "34", "Hérault", "76", 1_216_722, 6_101.0),
    ("departement", "30", "Gard", "76", 756_600, 5_853.0),
    ("departement", "69", "Rhône", "84", 1_920_487, 3_249.0),
    ("zone_emploi", "7616", "Montpellier", None, None, None),
    ("zone_emploi", "7609", "Nîmes", None, None, None),
    ("zone_emploi", "8420", "Lyon", None, None, None),
    ("commune", "34172", "Montpellier", "34", 302_454, 56.9),
    ("commune", "34032", "Béziers", "34", 79_041, 95.5),
    ("commune", "30189", "Nîmes", "30", 148_561, 161.8),
    ("commune", "69123", "Lyon", "69", 522_250, 47.9),
)
COMMUNE_ZONE = {"34172": "7616", "34032": "7616", "30189": "7609", "69123": "8420"}

#: kind, name, commune, NAF / relay category, size band, export share
DEMO_ORGANISATIONS = (
    ("sme", "Vignobles Castelnau SARL", "34032", "11.02A", "11", 0.45),
    ("sme", "Optique Lez Instruments", "34172", "26.70Z", "12", 0.30),
    ("sme", "Textiles Cévenols", "30189", "13.20Z", "03", 0.12),
    ("sme", "Rhône Robotique Industrie", "69123", "28.99B", "21", 0.55),
    ("relay", "CCI Hérault, service international", "34172", "chamber_commerce", None, None),
    ("relay", "AD'OCC, agence de développement économique", "34172", "regional_agency", None, None),
    ("relay", "Club Export Gard", "30189", "export_club", None, None),
    ("relay", "Banque Populaire du Sud, pôle international", "34172", "bank", None, None),
    ("relay", "Team France Export Auvergne-Rhône-Alpes", "69123", "team_france_export", None, None),
)


def demo_password() -> str:
    return os.environ.get("MILIEU_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)


#: organisation, instrument, fieldworker, date, answers, transcript file, submitted
DEMO_INTERVIEWS = (
    (
        "Vignobles Castelnau SARL",
        "sme_manager",
        "ines",
        date(2026, 10, 6),
        {
            "consent_data": "yes",
            "consent_participation": "yes",
            "consent_audio": "yes",
            "role": "dirigeant",
            "firm_size": "10_49",
            "year_founded": "1987",
            "exports": "yes",
            "export_share": "45",
            "export_modes": ["agent", "distributeur"],
            "export_countries": "6",
            "a4": "4",
            "a5": "5",
            "a6": "4",
            "a6_example": "Trois structures m'ont proposé la même mission en Chine.",
            "a7": "2",
            "a8": "3",
            "a9": "4",
            "a11": "4",
            "a13": "4",
            "a14": "4",
            "a15": "4",
        },
        "transcript_pme_001.txt",
        True,
    ),
    (
        "CCI Hérault, service international",
        "relay_actor",
        "ines",
        date(2026, 10, 8),
        {
            "consent_data": "yes",
            "consent_participation": "yes",
            "consent_audio": "no",
            "role": "conseiller",
            "years_in_post": "9",
            "supports_smes": "yes",
            "smes_per_year": "120",
            "b3": "5",
            "b4": "4",
            "b5": "2",
            "b6": "4",
            "b8": "3",
            "b10": "4",
            "b11": "3",
            "b13": "4",
            "b14": "4",
            "b15": "3",
        },
        "transcript_rel_001.txt",
        True,
    ),
    (
        "Textiles Cévenols",
        "sme_manager",
        "marc",
        date(2026, 10, 20),
        {
            "consent_data": "yes",
            "consent_participation": "yes",
            "role": "directeur_export",
            "exports": "no",
        },
        None,
        False,
    ),
)


def instruments_dir() -> Path:
    return Path(str(files("milieu_instruments")))


def load_demo() -> dict[str, int]:
    """Add whatever part of the demo is missing; running it again changes nothing."""
    added = {"users": 0, "territories": 0, "organisations": 0, "interviews": 0}
    for username, role, name in DEMO_USERS:
        if not db.session.scalar(sa.select(User.id).where(User.username == username)):
            create_user(username, role, demo_password(), name)
            added["users"] += 1
    by_code = {}
    for level, code, name, parent, population, area in DEMO_TERRITORIES:
        terr = db.session.scalar(
            sa.select(Territory).where(Territory.level == level, Territory.code == code)
        )
        if terr is None:
            terr = Territory(
                level=level, code=code, name=name, population=population, area_km2=area
            )
            parent_level = "region" if level == "departement" else "departement"
            terr.parent = by_code.get((parent_level, parent))
            if level == "commune":
                terr.zone_emploi = by_code[("zone_emploi", COMMUNE_ZONE[code])]
            db.session.add(terr)
            added["territories"] += 1
        by_code[(level, code)] = terr
    db.session.flush()
    from survey_app.fieldwork.operations import next_pseudonym

    for kind, name, commune, activity, size, export_share in DEMO_ORGANISATIONS:
        if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name)):
            continue
        org = Organisation(
            kind=kind,
            name=name,
            territory=by_code[("commune", commune)],
            pseudonym=next_pseudonym(kind),
        )
        if kind == "sme":
            org.naf_code, org.size_band, org.export_share = activity, size, export_share
        else:
            org.relay_category = activity
        db.session.add(org)
        db.session.flush()
        added["organisations"] += 1
    added["interviews"] = _demo_interviews()
    return added


def _demo_interviews() -> int:
    from survey_app.fieldwork import operations as ops

    from survey_app.qualitative.codebook import load_codebook_file

    load_codebook_file(instruments_dir() / "codebook.yaml")
    versions = {}
    for name in ("sme_manager.yaml", "relay_actor.yaml"):
        version, _new = ops.load_instrument_file(instruments_dir() / name)
        versions[version.instrument_key] = version
    added = 0
    for org_name, key, username, day, answers, transcript, submitted in DEMO_INTERVIEWS:
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == org_name))
        if db.session.scalar(sa.select(Interview.id).where(Interview.organisation_id == org.id)):
            continue
        user = db.session.scalar(sa.select(User).where(User.username == username))
        interview = ops.create_interview(user, versions[key], org, day, org.territory.name)
        ops.save_answers(interview, answers, interview.version, user)
        if transcript:
            text = (Path(__file__).parent / "demo_data" / transcript).read_text(encoding="utf-8")
            ops.save_transcript(interview, text, user, source_format="txt", filename=transcript)
        if submitted:
            ops.submit_interview(interview, interview.version, user)
        added += 1
    return added
