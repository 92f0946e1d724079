"""Demo data: users, territories, organisations, interviews and transcripts to try Milieu with."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import milieu_instruments as instrument_files
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

#: kind, name, commune, NAF / relay category, size band, export share
DEMO_ORGANISATIONS = (
    ("sme", "Vignobles Castelnau SARL", "34032", "11.02A", "11", 0.45),
    ("sme", "Optique Lez Instruments", "34172", "26.70Z", "12", 0.30),
    ("sme", "Textiles Cévenols", "30007", "13.20Z", "03", 0.12),
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
    return instrument_files.path()


def load_demo() -> dict[str, int]:
    """Add whatever part of the demo is missing; running it again changes nothing."""
    added = {"users": 0, "organisations": 0, "interviews": 0}
    for username, role, name in DEMO_USERS:
        if not db.session.scalar(sa.select(User.id).where(User.username == username)):
            create_user(username, role, demo_password(), name)
            added["users"] += 1
    added.update({f"territories ({level})": n for level, n in _demo_territories().items()})
    communes = {
        t.code: t
        for t in db.session.scalars(sa.select(Territory).where(Territory.level == "commune"))
    }
    from survey_app.fieldwork.operations import next_pseudonym

    for kind, name, commune, activity, size, export_share in DEMO_ORGANISATIONS:
        if db.session.scalar(sa.select(Organisation.id).where(Organisation.name == name)):
            continue
        org = Organisation(
            kind=kind,
            name=name,
            territory=communes[commune],
            pseudonym=next_pseudonym(kind),
        )
        if kind == "sme":
            org.naf_code, org.size_band, org.export_share = activity, size, export_share
        else:
            org.relay_category = activity
        db.session.add(org)
        db.session.flush()
        added["organisations"] += 1
    added["interviews"] = _demo_interviews() + _demo_survey_interviews()
    added["codings"] = _demo_codings()
    return added


def demo_data_dir() -> Path:
    """The analysis package's demo files: registry extract, geography, population, area."""
    from analysis.synthetic_registry import demo_paths

    return demo_paths()["geography"].parent


def _demo_territories() -> dict[str, int]:
    from survey_app.territories.operations import load_territories

    data = demo_data_dir()
    return load_territories(
        data / "demo_geography.csv", data / "demo_population.csv", data / "demo_area.csv"
    )


def _demo_interviews() -> int:
    from survey_app.codings.codebook_versions import load_codebook_file
    from survey_app.fieldwork import operations as ops

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
            text = (Path(__file__).parent / "data" / transcript).read_text(encoding="utf-8")
            ops.save_transcript(interview, text, user, source_format="txt", filename=transcript)
        if submitted:
            ops.submit_interview(interview, interview.version, user)
        added += 1
    return added


#: context answers the synthetic survey interviews share (their Likert answers come from the file)
SURVEY_CONTEXT = {
    "sme_manager": {
        "role": "dirigeant",
        "firm_size": "10_49",
        "exports": "yes",
        "export_share": "25",
    },
    "relay_actor": {"role": "conseiller", "supports_smes": "yes"},
}
SURVEY_CONSENT = {"consent_data": "yes", "consent_participation": "yes"}


def _demo_survey_interviews() -> int:
    """Add the synthetic survey interviews of the analysis demo (Likert answers, 4 territories).

    They give the demo's territory profile enough interviews per stratum to read; their
    organisations are named "Démo PME n" / "Démo relais n" and have no transcript.
    """
    import pandas as pd

    from survey_app.fieldwork import operations as ops
    from survey_app.instruments.answers import visible_questions

    folder = demo_data_dir() / "demo_interviews"
    interviews = pd.read_csv(folder / "interviews.csv", dtype=str)
    answers = pd.read_csv(folder / "answers_long.csv", dtype=str).fillna("")
    by_interview = {
        k: dict(zip(g["question_key"], g["value"], strict=True))
        for k, g in answers.groupby("interview_id")
    }
    versions = {v.instrument_key: v for v in ops.current_instrument_versions()}
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    communes = {
        t.code: t
        for t in db.session.scalars(sa.select(Territory).where(Territory.level == "commune"))
    }
    added = 0
    for row in interviews.itertuples(index=False):
        kind = row.respondent_type
        name = f"Démo {'PME' if kind == 'sme' else 'relais'} {row.org_id}"
        org = db.session.scalar(sa.select(Organisation).where(Organisation.name == name))
        if org is None:
            org = ops.create_organisation(
                None, kind=kind, name=name, territory=communes[row.commune]
            )
        elif db.session.scalar(
            sa.select(Interview.id).where(
                Interview.organisation_id == org.id,
                Interview.interview_date == date.fromisoformat(row.interview_date),
            )
        ):
            continue
        version = versions[row.instrument_id]
        fieldworker = users["ines" if int(row.interview_id) % 2 else "marc"]
        interview = ops.create_interview(
            fieldworker, version, org, date.fromisoformat(row.interview_date)
        )
        given = {
            **SURVEY_CONSENT,
            **SURVEY_CONTEXT[row.instrument_id],
            **by_interview.get(row.interview_id, {}),
        }
        instrument = ops.instrument_of(version)
        for question in visible_questions(instrument, given):
            if question.required and not given.get(question.key):
                given[question.key] = "dont_know"
        ops.save_answers(interview, given, interview.version, fieldworker)
        ops.submit_interview(interview, interview.version, fieldworker)
        if row.status == "approved":
            ops.review_interview(interview, "approved", "", interview.version, users["camille"])
        added += 1
    return added


#: phrase coded, code, valence, intensity: by camille, and by louis where he read it differently
DEMO_CODINGS = {
    "transcript_pme_001.txt": {
        "camille": [
            ("un importateur belge nous a contactés sur un salon", "STR.INTL", 1, 2),
            ("On a un agent commercial en Allemagne", "STR.MODE", 0, 2),
            (
                "il y a trois structures qui m'ont proposé la même mission en Chine",
                "GOV.FRAG",
                -1,
                3,
            ),
            (
                "une conseillère que je connais depuis longtemps, elle est à dix minutes d'ici",
                "GOV.PROX",
                1,
                3,
            ),
            ("on se voit à peu près tous les mois", "DYN.FREQ", 1, 2),
            ("m'a mis en relation avec un distributeur au Québec", "GOV.ACTIV", 1, 3),
            ("La certification bio, oui, pour l'Allemagne c'était indispensable", "STR.CERT", 1, 2),
            ("maintenant on sait préparer un salon tout seuls", "DYN.LEARN", 1, 2),
        ],
        "louis": [
            ("un importateur belge nous a contactés sur un salon", "STR.INTL", 1, 1),
            ("On a un agent commercial en Allemagne", "STR.MODE", 0, 2),
            (
                "il y a trois structures qui m'ont proposé la même mission en Chine",
                "GOV.FRAG",
                -1,
                2,
            ),
            (
                "une conseillère que je connais depuis longtemps, elle est à dix minutes d'ici",
                "GOV.PROX",
                1,
                2,
            ),
            ("m'a mis en relation avec un distributeur au Québec", "STR.NETW", 1, 2),
            ("maintenant on sait préparer un salon tout seuls", "DYN.LEARN", 1, 2),
            ("ce qui nous a permis de prospecter la Scandinavie", "DYN.SELF", 1, 1),
        ],
    },
    "transcript_rel_001.txt": {
        "camille": [
            ("on travaille en binôme avec les conseillers de Business France", "GOV.COORD", 1, 2),
            ("La Région fixe les grandes priorités et on s'aligne", "GOV.PILOT", 1, 2),
            (
                "Avant, chacun faisait ses salons dans son coin, c'était le millefeuille",
                "DYN.TREND",
                1,
                2,
            ),
            ("Toutes les semaines avec Business France", "DYN.FREQ", 1, 3),
            (
                "En une journée on a contacté le conseiller du commerce extérieur sur place",
                "GOV.ACTIV",
                1,
                3,
            ),
            (
                "plus il y a de missions collectives, et plus d'autres entreprises se lancent",
                "DYN.SELF",
                1,
                2,
            ),
        ],
        "louis": [
            ("on travaille en binôme avec les conseillers de Business France", "GOV.COORD", 1, 2),
            ("La Région fixe les grandes priorités et on s'aligne", "GOV.PILOT", 1, 3),
            (
                "Avant, chacun faisait ses salons dans son coin, c'était le millefeuille",
                "GOV.FRAG",
                -1,
                2,
            ),
            ("Toutes les semaines avec Business France", "DYN.FREQ", 1, 2),
            (
                "En une journée on a contacté le conseiller du commerce extérieur sur place",
                "GOV.ACTIV",
                1,
                3,
            ),
            ("Je pense que ça s'améliore", "DYN.TREND", 1, 1),
        ],
    },
}


def _demo_codings() -> int:
    """Code the two demo transcripts blind by camille and louis in a round they both finish."""
    from survey_app.codings.codebook_versions import codes_by_key, current_codebook
    from survey_app.codings.operations import create_coding
    from survey_app.models import Coding, CodingRound, Transcript, TranscriptVersion
    from survey_app.rounds import lifecycle as rounds

    if db.session.scalar(sa.select(sa.func.count(CodingRound.id))):
        return 0
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    book = current_codebook()
    codes = codes_by_key(book)
    versions = {}
    for filename in DEMO_CODINGS:
        version = db.session.scalars(
            sa.select(TranscriptVersion)
            .join(Transcript)
            .where(TranscriptVersion.source_filename == filename)
            .order_by(TranscriptVersion.number.desc())
        ).first()
        versions[filename] = version
    coders = [users["camille"], users["louis"]]
    rnd = rounds.create_round(
        users["camille"], "Double codage — démo", list(versions.values()), coders, book
    )
    added = 0
    for filename, by_coder in DEMO_CODINGS.items():
        version = versions[filename]
        for username, items in by_coder.items():
            for phrase, code, valence, intensity in items:
                start = version.text.index(phrase)
                create_coding(
                    version,
                    start,
                    start + len(phrase),
                    codes[code],
                    users[username],
                    valence=valence,
                    intensity=intensity,
                )
                added += 1
    for coder in coders:
        rounds.mark_done(rnd, coder)
    assert db.session.scalar(sa.select(Coding.round_id).limit(1)) == rnd.id
    # the shipped model's suggestions on the SME transcript, left for a researcher to review
    from survey_app.workspace.model_versions import ensure_model_version
    from survey_app.workspace.suggestions import run_suggestions

    run_suggestions(
        versions["transcript_pme_001.txt"],
        ensure_model_version(),
        lambda _fraction, _message: None,
        users["camille"],
    )
    return added
