"""A deterministic synthetic project, for benchmarks and tests of the writers."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from analysis.datasets import Dataset

LIKERT = [
    ("1", "Pas du tout d'accord", "Strongly disagree"),
    ("2", "Plutôt pas d'accord", "Disagree"),
    ("3", "Ni d'accord ni pas d'accord", "Neither"),
    ("4", "Plutôt d'accord", "Agree"),
    ("5", "Tout à fait d'accord", "Strongly agree"),
]
FREQUENCY = [
    ("1", "Jamais", "Never"),
    ("2", "Rarement", "Rarely"),
    ("3", "Parfois", "Sometimes"),
    ("4", "Souvent", "Often"),
    ("5", "Très souvent", "Very often"),
]
MODES = [
    ("direct", "Export direct", "Direct export"),
    ("agent", "Agent", "Agent"),
    ("filiale", "Filiale", "Subsidiary"),
]
SUPPORT = [
    ("cci", "CCI", "Chamber of commerce"),
    ("region", "Région", "Region"),
    ("banque", "Banque", "Bank"),
    ("tfe", "Team France Export", "Team France Export"),
]

CODEBOOK = [
    ("GOV.COORD", "Coordination entre acteurs-relais", "Coordination between relay actors"),
    ("GOV.PILOT", "Pilotage par une collectivité", "Leadership by an authority"),
    ("GOV.FRAG", "Fragmentation", "Fragmentation"),
    ("GOV.PROX", "Proximité de l'appui", "Proximity of support"),
    ("STR.INTL", "Stratégie d'internationalisation", "Internationalisation strategy"),
    ("STR.MODE", "Mode d'entrée", "Entry mode"),
    ("STR.NETW", "Réseautage / clubs", "Networking / clubs"),
    ("DYN.FREQ", "Fréquence des interactions", "Interaction frequency"),
    ("DYN.INIT", "Nouvelles initiatives", "New initiatives"),
    ("DYN.TREND", "Tendance dans le temps", "Trend over time"),
    ("OTH.RESID", "Pertinent hors thèmes", "Relevant, outside themes"),
]

FIRMS = [
    "Tonnellerie Marcillac",
    "Biscuiterie Vauclair",
    "Ateliers Roumégous",
    "Fromagerie des Causses",
    "Verrerie Lautrec",
    "Coutellerie Thiernoise",
]
PERSONS = ["Hélène Castagnède", "Mathieu Brassac", "Sophie Lagarrigue", "Yannick Trémolet"]
PLACES = ["Rodez", "Millau", "Albi", "Figeac"]
TERRITORIES = [
    ("12202", "12", "76", "7608"),
    ("12145", "12", "76", "7608"),
    ("81004", "81", "76", "7609"),
    ("46102", "46", "76", "7610"),
]


def _choices(items: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"value": v, "label": {"fr": fr, "en": en}} for v, fr, en in items]


def _question(
    qtype: str,
    d: str | None,
    codes: list[str],
    fr: str,
    en: str,
    choices: list[tuple[str, str, str]] | None = None,
    reverse: bool = False,
) -> dict[str, Any]:
    return {
        "type": qtype,
        "d": d,
        "reverse": reverse,
        "codes": codes,
        "choices": _choices(choices or []),
        "label": {"fr": fr, "en": en},
    }


def instruments() -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """Return a two-guide instrument set shaped like the project's guides."""
    sme = {
        "a1_parcours": _question(
            "text",
            "D4_STRAT",
            ["STR.INTL"],
            "Racontez le développement international.",
            "Tell how the firm went international.",
        ),
        "a2_mode": _question(
            "select_one",
            "D4_STRAT",
            ["STR.MODE"],
            "Comment vendez-vous à l'étranger ?",
            "How do you sell abroad?",
            MODES,
        ),
        "a3_appuis": _question(
            "select_multiple",
            None,
            ["STR.RESS"],
            "Quelles structures utilisez-vous ?",
            "Which bodies do you use?",
            SUPPORT,
        ),
        "a4_frequence": _question(
            "frequency",
            "D3",
            ["DYN.FREQ"],
            "Fréquence des contacts avec une structure d'appui.",
            "Contact frequency.",
            FREQUENCY,
        ),
        "a5_proximite": _question(
            "likert",
            "D4_GOV",
            ["GOV.PROX"],
            "J'ai un interlocuteur identifié et proche.",
            "I have an identified, nearby contact.",
            LIKERT,
        ),
        "a6_doublons": _question(
            "likert",
            "D4_GOV",
            ["GOV.FRAG"],
            "Il y a trop de structures qui proposent la même chose.",
            "Too many overlapping bodies.",
            LIKERT,
            reverse=True,
        ),
        "a7_ca_export": _question(
            "decimal", None, [], "Part du CA à l'export (%).", "Export share of turnover (%)."
        ),
    }
    relay = {
        "b1_mission": _question(
            "text", None, [], "Décrivez votre structure.", "Describe your organisation."
        ),
        "b3_frequence": _question(
            "frequency",
            "D3",
            ["DYN.FREQ"],
            "Fréquence des échanges avec les autres acteurs.",
            "Inter-actor frequency.",
            FREQUENCY,
        ),
        "b4_roles": _question(
            "likert",
            "D4_GOV",
            ["GOV.COORD"],
            "Les rôles de chaque acteur sont clairement répartis.",
            "Roles are clearly divided.",
            LIKERT,
        ),
    }
    return {("guide_pme", "1.0"): sme, ("guide_relais", "1.0"): relay}


def _turns(rng: random.Random, length: int) -> str:
    firm, person, place = rng.choice(FIRMS), rng.choice(PERSONS), rng.choice(PLACES)
    sentences = [
        f"Chez {firm}, nous exportons vers l'Allemagne depuis dix ans.",
        f"{person} de la CCI nous a mis en relation avec un distributeur à Munich.",
        f"Le salon de {place} nous a beaucoup aidés, on y retourne chaque année.",
        "Trois structures m'ont proposé la même mission au Maroc, c'est illisible.",
        "Depuis la réforme, c'est plus lisible et on se voit tous les mois.",
        "Au club export j'apprends plus qu'en formation.",
    ]
    parts, size = [], 0
    while size < length:
        speaker = "E" if len(parts) % 2 == 0 else "R"
        line = f"{speaker} : {rng.choice(sentences)} {rng.choice(sentences)}"
        parts.append(line)
        size += len(line) + 1
    return "\n".join(parts)


def synthetic_dataset(
    n_interviews: int = 20, n_codings: int = 200, seed: int = 0, text_length: int = 1500
) -> Dataset:
    """Return a deterministic project of `n_interviews` interviews and `n_codings` codings."""
    rng = random.Random(seed)
    guides = instruments()
    n_orgs = max(1, n_interviews * 2 // 3)
    orgs = pd.DataFrame([_organisation(rng, i) for i in range(1, n_orgs + 1)])
    interviews = pd.DataFrame([_interview(rng, i, orgs) for i in range(1, n_interviews + 1)])
    answers = pd.DataFrame(
        _answers(rng, interviews, guides),
        columns=["interview_id", "question_key", "value", "missing"],
    )
    transcripts = _transcripts(rng, interviews, text_length)
    segments = _segments(transcripts)
    codings = _codings(rng, segments, n_codings)
    codebook = pd.DataFrame(
        [
            {
                "code": c,
                "family": {
                    "GOV": "GOVERNANCE",
                    "STR": "STRATEGY",
                    "DYN": "DYNAMICS",
                    "OTH": "OTHER",
                }[c[:3]],
                "label_fr": fr,
                "label_en": en,
                "definition": f"{fr}.",
            }
            for c, fr, en in CODEBOOK
        ]
    )
    users = pd.DataFrame(
        {
            "username": ["alice", "bruno", "admin", "terrain1"],
            "role": ["researcher", "researcher", "admin", "fieldworker"],
        }
    )
    return Dataset(
        organisations=orgs,
        interviews=interviews,
        answers_long=answers,
        segments=segments,
        codings=codings,
        transcripts=transcripts,
        users=users,
        codebook=codebook,
        instruments=guides,
        name="synthetic",
    )


def _organisation(rng: random.Random, org_id: int) -> dict[str, Any]:
    relay = org_id % 3 == 0
    name = FIRMS[org_id % len(FIRMS)] if org_id <= len(FIRMS) else f"Entreprise {org_id}"
    if relay:
        name = f"CCI de {PLACES[org_id % len(PLACES)]}"
    return {
        "org_id": org_id,
        "pseudonym": f"ORG_{org_id:03d}",
        "kind": "relay" if relay else "sme",
        "name": name,
        "relay_category": "cci" if relay else None,
        "naf": "94.11Z" if relay else "11.02A",
        "size_band": None if relay else rng.choice(["11", "12", "21"]),
        "export_share": None if relay else round(rng.uniform(0, 80), 1),
        "territory_code": TERRITORIES[org_id % len(TERRITORIES)][0],
    }


def _interview(rng: random.Random, interview_id: int, orgs: pd.DataFrame) -> dict[str, Any]:
    org = orgs.iloc[(interview_id - 1) % len(orgs)]
    commune, dep, reg, ze = TERRITORIES[int(org["org_id"]) % len(TERRITORIES)]
    relay = org["kind"] == "relay"
    return {
        "interview_id": interview_id,
        "org_id": int(org["org_id"]),
        "respondent_type": org["kind"],
        "instrument_id": "guide_relais" if relay else "guide_pme",
        "instrument_version": "1.0",
        "fieldworker": "terrain1",
        "interview_date": date(2026, 3, 1) + timedelta(days=interview_id % 200),
        "status": rng.choice(["submitted", "approved", "approved"]),
        "commune": commune,
        "departement": dep,
        "region": reg,
        "zone_emploi": ze,
    }


def _answers(
    rng: random.Random,
    interviews: pd.DataFrame,
    guides: dict[tuple[str, str], dict[str, dict[str, Any]]],
) -> list[tuple]:
    rows = []
    for iv in interviews.itertuples():
        for key, meta in guides[(iv.instrument_id, iv.instrument_version)].items():
            roll = rng.random()
            if roll < 0.06:
                rows.append(
                    (iv.interview_id, key, None, rng.choice(["refused", "dont_know", "not_asked"]))
                )
                continue
            rows.append((iv.interview_id, key, _value(rng, meta), None))
    return rows


def _value(rng: random.Random, meta: dict[str, Any]) -> str:
    values = [c["value"] for c in meta["choices"]]
    if meta["type"] == "select_multiple":
        return " ".join(rng.sample(values, rng.randint(1, len(values))))
    if values:
        return rng.choice(values)
    if meta["type"] == "decimal":
        return f"{rng.uniform(0, 90):.1f}"
    return rng.choice(
        [
            "Nous avons commencé par la Belgique.",
            "Mission Québec en 2019.",
            "Un accompagnement de la Région.",
        ]
    )


def _transcripts(rng: random.Random, interviews: pd.DataFrame, length: int) -> pd.DataFrame:
    rows = []
    for iv in interviews.itertuples():
        text = _turns(rng, length)
        rows.append(
            {
                "transcript_id": iv.interview_id,
                "interview_id": iv.interview_id,
                "version": 1,
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "text": text,
            }
        )
    return pd.DataFrame(rows)


def _segments(transcripts: pd.DataFrame) -> pd.DataFrame:
    rows, seg_id = [], 0
    for tr in transcripts.itertuples():
        start = 0
        for line in tr.text.split("\n"):
            seg_id += 1
            rows.append(
                {
                    "segment_id": seg_id,
                    "interview_id": tr.interview_id,
                    "transcript_id": tr.transcript_id,
                    "start": start,
                    "end": start + len(line),
                    "speaker": line[:1],
                    "kind": "turn",
                    "text": line,
                }
            )
            start += len(line) + 1
    return pd.DataFrame(rows)


def _codings(rng: random.Random, segments: pd.DataFrame, n: int) -> pd.DataFrame:
    codes = [c for c, _, _ in CODEBOOK]
    seg = segments.sample(n=n, replace=True, random_state=rng.randrange(2**31))
    base = datetime(2026, 4, 1, tzinfo=UTC)
    source = [rng.choice(["human", "human", "model", "consensus"]) for _ in range(n)]
    code = [rng.choice(codes) for _ in range(n)]
    return pd.DataFrame(
        {
            "coding_id": range(1, n + 1),
            "interview_id": seg["interview_id"].to_numpy(),
            "transcript_id": seg["transcript_id"].to_numpy(),
            "start": seg["start"].to_numpy(),
            "end": seg["end"].to_numpy(),
            "code": code,
            "family": [
                {"GOV": "GOVERNANCE", "STR": "STRATEGY", "DYN": "DYNAMICS", "OTH": "OTHER"}[c[:3]]
                for c in code
            ],
            "coder": [rng.choice(["alice", "bruno"]) for _ in range(n)],
            "source": source,
            "confidence": [round(rng.random(), 3) if s == "model" else None for s in source],
            "valence": [rng.choice([-1, 0, 1, None]) for _ in range(n)],
            "intensity": [rng.choice([0, 1, 2, 3, None]) for _ in range(n)],
            "round_id": [rng.choice([1, None]) for _ in range(n)],
            "created_dt": [base + timedelta(minutes=i) for i in range(n)],
        }
    )
