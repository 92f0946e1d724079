"""The hand-written statements of the cold-start corpus, gathered from the register modules.

Written for the project (not real interview, hearing, report, article or paper text). Six
registers, one module each, every module laid out by code:

- ``spoken_sme`` (reg_sme.py): an SME manager speaking in an interview;
- ``spoken_relay`` (reg_relay.py): a relay-actor adviser speaking in an interview;
- ``formal_relay`` (reg_formal.py): a relay actor's formal speech (hearings, press interviews);
- ``institutional`` (reg_institutional.py): annual reports, regional strategies, web pages;
- ``academic`` (reg_academic.py): economic geography and international business papers;
- ``press`` (reg_press.py): regional and business press on exporting small firms.

Each module holds CODED (code -> single-code statements), MULTI ((codes, statement) pairs with
several codes), NEGATIVE (on-topic statements that carry no theme) and SMALL_TALK (spoken
registers only). INTERVIEWER_QUESTIONS are interviewer turns: they name the themes but are
never coded.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from coding.data import (
    reg_academic,
    reg_formal,
    reg_institutional,
    reg_press,
    reg_relay,
    reg_sme,
)

REGISTERS: dict[str, ModuleType] = {
    "spoken_sme": reg_sme,
    "spoken_relay": reg_relay,
    "formal_relay": reg_formal,
    "institutional": reg_institutional,
    "academic": reg_academic,
    "press": reg_press,
}
SPOKEN = ("spoken_sme", "spoken_relay")
SPEAKER = {
    "spoken_sme": "sme",
    "spoken_relay": "relay",
    "formal_relay": "relay",
    "institutional": "document",
    "academic": "document",
    "press": "document",
    "interviewer": "interviewer",
}

INTERVIEWER_QUESTIONS: list[str] = [
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


@dataclass(frozen=True)
class Statement:
    """One hand-written statement: its key (the corpus `group`), register, codes and text."""

    key: str
    register: str
    kind: str  # "coded", "negative", "small_talk" or "question"
    codes: tuple[str, ...]
    text: str


def statements() -> list[Statement]:
    """Every hand-written statement, in a stable order."""
    out: list[Statement] = []
    for reg, mod in REGISTERS.items():
        for code, lines in mod.CODED.items():
            out += [
                Statement(f"{reg}:{code}#{i}", reg, "coded", (code,), t)
                for i, t in enumerate(lines)
            ]
        for i, (codes, text) in enumerate(mod.MULTI):
            out.append(
                Statement(f"{reg}:MULTI#{i}", reg, "coded", tuple(sorted(codes.split(";"))), text)
            )
        out += [
            Statement(f"{reg}:NEG#{i}", reg, "negative", (), t) for i, t in enumerate(mod.NEGATIVE)
        ]
        out += [
            Statement(f"{reg}:TALK#{i}", reg, "small_talk", (), t)
            for i, t in enumerate(mod.SMALL_TALK)
        ]
    out += [
        Statement(f"interviewer:Q#{i}", "interviewer", "question", (), t)
        for i, t in enumerate(INTERVIEWER_QUESTIONS)
    ]
    return out
