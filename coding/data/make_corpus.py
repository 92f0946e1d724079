"""Generate coding/data/corpus.csv from the hand-written statements (seeded, reproducible).

Every hand-written statement (coding/data/statements.py and its register modules) becomes one
corpus row. Spoken statements are rendered as spoken turns (openers, hesitations, repeated
words, closers, occasional digressions); written ones (formal speech, institutional and
academic prose) stand as written, some with typographic apostrophes. A few spoken turns join
two statements of the same register and split (multi-label). Interviewer questions are
coded with nothing.

Columns: id, text, codes (';'-separated), speaker_type (sme, relay, document, interviewer),
split (train or heldout), group (the key of the hand-written statement a row comes from, for
grouped cross-validation) and register. The held-out split is drawn by statement: a statement
and every row that renders it are on one side; within each register a fifth of each code's
statements (and of the negatives) is held out.

Run: .venv/bin/python -m coding.data.make_corpus
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from coding.data.statements import SPEAKER, SPOKEN, Statement, statements

OUT = Path(__file__).with_name("corpus.csv")
SEED = 20261204
HELDOUT_EVERY = 5  # one statement in five, per register and code, is held out
JOIN_SHARE = 0.2  # spoken turns joining two statements, as a share of the spoken statements
TYPO_APOSTROPHE = 0.5  # share of written rows rendered with ’ instead of '
FIELDS = ["id", "text", "codes", "speaker_type", "split", "group", "register"]
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
    """Render a statement as a spoken turn."""
    body = hesitate(core, rng)
    opener = rng.choice(OPENERS)
    if opener.endswith("que ") and body[0].lower() in "aeiouéèêàhy":
        opener = opener[:-2] + "'"
    text = opener + body if opener else body
    text += rng.choice(CLOSERS)
    if rng.random() < 0.1:
        text = rng.choice(DIGRESSIONS) + text[0].upper() + text[1:]
    if rng.random() < 0.1:
        text += rng.choice(TAIL_DIGRESSIONS)
    return text[0].upper() + text[1:]


def write(text: str, rng: random.Random) -> str:
    """Render a written statement: as it stands, sometimes with typographic apostrophes."""
    return text.replace("'", "’") if rng.random() < TYPO_APOSTROPHE else text


def ask(question: str, rng: random.Random) -> str:
    """Render an interviewer question."""
    opener = rng.choice(["", "Et ", "D'accord. ", "Très bien. ", "Hmm. ", "Je vois. "])
    first = question[0].upper() + question[1:] if not opener or opener.endswith(". ") else question
    return opener + first + " ?"


def heldout_keys(items: list[Statement], rng: random.Random) -> set[str]:
    """Hold out one statement in HELDOUT_EVERY within each register, spread over its codes.

    Statements are ordered by stratum (first code, or kind for uncoded ones), shuffled within
    each stratum, and every HELDOUT_EVERY-th one from a random offset is held out, so each
    register and each code keeps about the same held-out share.
    """
    held: set[str] = set()
    for reg in sorted({s.register for s in items}):
        strata: dict[str, list[Statement]] = {}
        for s in items:
            if s.register == reg:
                strata.setdefault(s.codes[0] if s.codes else s.kind, []).append(s)
        ordered: list[Statement] = []
        for name in sorted(strata):
            group = strata[name][:]
            rng.shuffle(group)
            ordered += group
        offset = rng.randrange(HELDOUT_EVERY)
        held |= {s.key for i, s in enumerate(ordered) if (i + offset) % HELDOUT_EVERY == 0}
    return held


def _row(text: str, codes, register: str, split: str, group: str) -> dict[str, str]:
    return {
        "text": text,
        "codes": ";".join(sorted(codes)),
        "speaker_type": SPEAKER[register],
        "split": split,
        "group": group,
        "register": register,
    }


def build(rng: random.Random) -> list[dict[str, str]]:
    """Build every corpus row (before ids)."""
    items = statements()
    held = heldout_keys(items, rng)
    rows = []
    for s in items:
        split = "heldout" if s.key in held else "train"
        if s.kind == "question":
            text = ask(s.text, rng)
        elif s.register in SPOKEN:
            text = speak(s.text, rng)
        else:
            text = write(s.text, rng)
        rows.append(_row(text, s.codes, s.register, split, s.key))
    rows += _joins(items, held, rng)
    return rows


def _joins(items: list[Statement], held: set[str], rng: random.Random) -> list[dict[str, str]]:
    """Spoken turns joining two statements of one register and one split, the first coded."""
    rows = []
    for reg in SPOKEN:
        for split in ("train", "heldout"):
            pool = [
                s
                for s in items
                if s.register == reg
                and s.kind in ("coded", "negative")
                and (s.key in held) == (split == "heldout")
            ]
            coded = [s for s in pool if s.kind == "coded"]
            for _ in range(round(len(pool) * JOIN_SHARE)):
                a, b = rng.choice(coded), rng.choice(pool)
                if a.key == b.key or set(a.codes) & set(b.codes):
                    continue
                text = speak(a.text, rng).rstrip(".") + rng.choice(JOINERS) + hesitate(b.text, rng)
                rows.append(_row(text + ".", set(a.codes) | set(b.codes), reg, split, a.key))
    return rows


def main() -> None:
    """Write the corpus CSV."""
    rng = random.Random(SEED)
    rows = build(rng)
    rng.shuffle(rows)
    tmp = OUT.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for i, row in enumerate(rows, 1):
            writer.writerow({"id": f"c{i:04d}", **row})
    tmp.replace(OUT)
    print(f"wrote {len(rows)} segments to {OUT}")


if __name__ == "__main__":
    main()
