"""Generate coding/data/corpus.csv from the hand-written statements (seeded, reproducible).

Each hand-written statement is rendered twice in spoken register (openers, hesitations,
repetitions, closers, occasional digressions) with different slot fillers; some turns join
two statements (multi-label). Small talk and interviewer questions are coded with nothing.
The `group` column names the hand-written statement a row comes from (for grouped
cross-validation). The held-out split is drawn by statement, so no held-out segment shares
its wording core with a training segment.

Run: .venv/bin/python -m coding.data.make_corpus
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from coding.data.statements import SMALL_TALK, STATEMENTS

OUT = Path(__file__).with_name("corpus.csv")
SEED = 20261127
HELDOUT_SHARE = 0.2

SLOTS = {
    "PAYS": [
        "Maroc",
        "Québec",
        "Japon",
        "Vietnam",
        "Sénégal",
        "Brésil",
        "Canada",
        "Mexique",
        "Chili",
        "Portugal",
        "Danemark",
        "Kenya",
        "Royaume-Uni",
        "Pérou",
    ],
    "VILLE": [
        "Nîmes",
        "Perpignan",
        "Béziers",
        "Alès",
        "Sète",
        "Rodez",
        "Narbonne",
        "Mende",
        "Carcassonne",
        "Lunel",
    ],
    "ACTEUR": [
        "la CCI",
        "la Région",
        "Business France",
        "la Team France Export",
        "l'agence",
        "la chambre des métiers",
        "Bpifrance",
        "la banque",
        "l'agence régionale",
    ],
    "PRODUIT": [
        "nos vannes",
        "nos fromages",
        "le vin",
        "nos capteurs",
        "nos meubles",
        "nos cosmétiques",
        "nos logiciels",
        "nos huiles",
    ],
}
OPENERS = [
    "Euh, ",
    "Bon, ",
    "Alors, ",
    "Ben, ",
    "Écoutez, ",
    "Disons que ",
    "Honnêtement, ",
    "Vous savez, ",
    "Oui, alors, ",
    "Moi je dirais que ",
    "Bah, ",
    "Non mais ",
    "Ah ça, ",
    "Pfff, ",
    "",
    "",
    "",
    "",
    "",
]
CLOSERS = [
    ".",
    ".",
    ".",
    ", voilà.",
    ", hein.",
    "... enfin bon.",
    ", c'est comme ça.",
    ", vous voyez.",
    " quoi.",
    ", je pense.",
    ", enfin je crois.",
    ", bref.",
]
JOINERS = [
    ". Et puis ",
    ". Par contre ",
    ". Et euh, ",
    ". Mais bon, ",
    ". Ah, et aussi, ",
    ". Autre chose, ",
    "... D'ailleurs ",
]
DIGRESSIONS = [
    "Attendez, je coupe mon téléphone. ",
    "Pardon, où j'en étais, ah oui. ",
    "Ça c'est une longue histoire. ",
    "Je vous raconte ça vite fait. ",
    "Bon, je vais vous donner un exemple. ",
    "Oui, ça c'est important. ",
]
TAIL_DIGRESSIONS = [
    " Mais ça c'est un autre sujet.",
    " Enfin, c'est mon avis, hein.",
    " Bon, je m'égare un peu.",
    " On en reparlera peut-être.",
    " Je ne sais pas si ça répond.",
    " Tiens, il pleut encore.",
]
PAUSE_BEFORE = {
    "que",
    "qui",
    "parce",
    "on",
    "je",
    "il",
    "ils",
    "c'est",
    "et",
    "mais",
    "donc",
    "ça",
    "nous",
    "pour",
    "avec",
    "depuis",
    "quand",
}
NO_PAUSE_AFTER = {"ce", "de", "le", "la", "les", "ne", "que", "qu'", "plus", "moins", "à", "et"}
REPEATABLE = {"on", "je", "le", "la", "les", "de", "c'est", "il", "nous", "ils", "en", "à", "un"}
QUESTIONS = [
    "et avec la CCI, vous travaillez comment",
    "vous exportez dans quels pays aujourd'hui",
    "qui pilote l'appui à l'export dans la région, selon vous",
    "est-ce que les structures se coordonnent entre elles",
    "vous êtes membre d'un club ou d'un réseau d'exportateurs",
    "à quelle fréquence êtes-vous en contact avec eux",
    "qu'avez-vous appris de ces missions",
    "est-ce que la situation a évolué ces dernières années",
    "un grand groupe vous a-t-il aidé à l'étranger",
    "vous avez une certification particulière",
    "comment vendez-vous à l'étranger, en direct, avec un agent",
    "y a-t-il eu de nouvelles initiatives récemment",
    "les aides, vous les trouvez accessibles",
    "vous avez un interlocuteur proche de chez vous",
    "il y a des doublons entre structures",
    "les banques sont associées aux actions",
    "racontez-moi une fois où le réseau s'est mobilisé",
    "d'autres entreprises vous ont inspiré",
    "décrivez-moi votre structure",
    "et vous passez par des ressources à Paris ou ici",
    "d'accord, et ensuite",
    "vous pouvez préciser",
    "c'était quand, à peu près",
    "et ça a marché",
]


def fill(text: str, rng: random.Random) -> str:
    """Replace {SLOT} markers with random fillers."""
    for slot, choices in SLOTS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", rng.choice(choices), 1)
    return text


def hesitate(text: str, rng: random.Random) -> str:
    """Insert spoken hesitations at natural pauses and repeat short function words."""
    words = text.split(" ")
    pauses = [
        i
        for i in range(1, len(words) - 1)
        if words[i - 1].endswith(",")
        or (words[i].lower() in PAUSE_BEFORE and words[i - 1].lower() not in NO_PAUSE_AFTER)
    ]
    if pauses and rng.random() < 0.4:
        i = rng.choice(pauses)
        if not words[i - 1].endswith(","):
            words[i - 1] += ","
        words.insert(i, rng.choice(["euh,", "enfin,", "comment dire,", "bon,", "disons,", "bah,"]))
    repeatable = [i for i, w in enumerate(words) if w.lower() in REPEATABLE]
    if repeatable and rng.random() < 0.2:
        i = rng.choice(repeatable)
        words.insert(i, words[i] + ",")
    return " ".join(words)


def speak(core: str, rng: random.Random) -> str:
    """Render a statement core as a spoken turn."""
    body = hesitate(fill(core, rng), rng)
    opener = rng.choice(OPENERS)
    if opener.endswith("que ") and body[0].lower() in "aeiouéèêàhy":
        opener = opener[:-2] + "'"
    text = opener + body if opener else body
    text += rng.choice(CLOSERS)
    if rng.random() < 0.12:
        text = rng.choice(DIGRESSIONS) + text[0].upper() + text[1:]
    if rng.random() < 0.12:
        text += rng.choice(TAIL_DIGRESSIONS)
    return text[0].upper() + text[1:]


def _items() -> list[tuple[str, str, str, str]]:
    """Return (group, who, core, code) for every hand-written statement."""
    items = []
    for code, lines in STATEMENTS.items():
        for i, line in enumerate(lines):
            who, core = line.split("|", 1)
            items.append((f"{code}#{i}", who, core, code))
    for i, line in enumerate(SMALL_TALK):
        who, core = line.split("|", 1)
        items.append((f"TALK#{i}", who, core, ""))
    return items


def _speaker(who: str, rng: random.Random) -> str:
    return {"s": "sme", "r": "relay"}.get(who) or rng.choice(["sme", "relay"])


def build(rng: random.Random) -> list[dict[str, str]]:
    """Build every corpus row (before ids)."""
    items = _items()
    by_code: dict[str, list] = {}
    for it in items:
        by_code.setdefault(it[3], []).append(it)
    held: set[str] = set()
    for group in by_code.values():
        k = max(1, round(len(group) * HELDOUT_SHARE))
        held |= {it[0] for it in rng.sample(group, k)}
    rows = []
    for group, who, core, code in items:
        split = "heldout" if group in held else "train"
        for _ in range(2):
            rows.append(
                {
                    "text": speak(core, rng),
                    "codes": code,
                    "speaker_type": _speaker(who, rng),
                    "split": split,
                    "group": group,
                }
            )
    rows += _multi(items, held, rng)
    rows += _questions(rng)
    return rows


def _multi(items, held, rng: random.Random) -> list[dict[str, str]]:
    """Join two statements of different codes in one turn (same split, same speaker kind)."""
    coded = [it for it in items if it[3]]
    rows = []
    for split in ("train", "heldout"):
        pool = [it for it in coded if (it[0] in held) == (split == "heldout")]
        for _ in range(int(len(pool) * 0.4)):
            a, b = rng.sample(pool, 2)
            if a[3] == b[3] or {a[1], b[1]} == {"s", "r"}:
                continue
            text = (
                speak(a[2], rng).rstrip(".")
                + rng.choice(JOINERS)
                + hesitate(fill(b[2], rng), rng)
                + "."
            )
            who = a[1] if a[1] != "b" else b[1]
            rows.append(
                {
                    "text": text,
                    "codes": ";".join(sorted({a[3], b[3]})),
                    "speaker_type": _speaker(who, rng),
                    "split": split,
                    "group": a[0],
                }
            )
    return rows


def _questions(rng: random.Random) -> list[dict[str, str]]:
    """Interviewer questions mention the themes but are not coded."""
    held = set(rng.sample(range(len(QUESTIONS)), round(len(QUESTIONS) * HELDOUT_SHARE)))
    rows = []
    for i, q in enumerate(QUESTIONS):
        opener = rng.choice(["", "Et ", "D'accord. ", "Très bien. ", "Hmm. ", "Je vois. "])
        first = q[0].upper() + q[1:] if not opener or opener.endswith(". ") else q
        text = opener + first
        rows.append(
            {
                "text": text + " ?",
                "codes": "",
                "speaker_type": rng.choice(["sme", "relay"]),
                "split": "heldout" if i in held else "train",
                "group": f"Q#{i}",
            }
        )
    return rows


def main() -> None:
    """Write the corpus CSV."""
    rng = random.Random(SEED)
    rows = build(rng)
    rng.shuffle(rows)
    tmp = OUT.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["id", "text", "codes", "speaker_type", "split", "group"]
        )
        writer.writeheader()
        for i, row in enumerate(rows, 1):
            writer.writerow({"id": f"c{i:04d}", **row})
    tmp.replace(OUT)
    print(f"wrote {len(rows)} segments to {OUT}")


if __name__ == "__main__":
    main()
