"""The words of the charts and the report, in French and English.

analysis/ has no Babel: this table is the whole translation. Each key holds both
languages side by side; data (indicator names, codes, notes, CSV columns) stays as is in
the files, in English. Notes and warnings are translated where they are shown
(translate_note), from the fixed English phrases the computation writes.
"""

from __future__ import annotations

import re

LANGS = ("fr", "en")
DEFAULT_LANG = "fr"

#: key -> {"fr": ..., "en": ...}; a test checks that every key has both, non-empty
TEXTS: dict[str, dict[str, str]] = {
    # dimension labels of the charts
    "D1": {"fr": "D1 Densité", "en": "D1 Density"},
    "D2": {"fr": "D2 Diversité", "en": "D2 Diversity"},
    "D3": {"fr": "D3 Dynamiques", "en": "D3 Dynamics"},
    "D4_GOV": {"fr": "D4 Gouvernance", "en": "D4 Governance"},
    "D4_STRAT": {"fr": "D4 Stratégie", "en": "D4 Strategy"},
    "composite": {"fr": "Composite", "en": "Composite"},
    # sources of a profile row (shown beside their codes on the web page)
    "source.registry": {"fr": "répertoire", "en": "registry"},
    "source.likert": {"fr": "Likert", "en": "Likert"},
    "source.coding": {"fr": "transcriptions codées", "en": "coded transcripts"},
    "source.geometric": {"fr": "moyenne géométrique", "en": "geometric mean"},
    "source.arithmetic": {"fr": "moyenne arithmétique", "en": "arithmetic mean"},
    # respondent types (strata)
    "respondent.sme": {"fr": "PME", "en": "SMEs"},
    "respondent.relay": {"fr": "acteurs-relais", "en": "relay actors"},
    # charts
    "chart.territory_axis": {
        "fr": "score dans [0, 1]   (plein : répertoire / Likert ; creux : transcriptions codées)",
        "en": "score in [0, 1]   (filled: registry / Likert; hollow: coded transcripts)",
    },
    "chart.comparison_axis": {
        "fr": "score dans [0, 1] avec intervalles bootstrap",
        "en": "score in [0, 1] with bootstrap intervals",
    },
    "chart.missing": {"fr": "dimensions manquantes : ", "en": "missing: "},
    # report
    "report.title": {
        "fr": "Milieu : profil 4D des territoires",
        "en": "Milieu: 4D territory profile",
    },
    "report.method": {
        "fr": "D1 = LQ/(1+LQ), où LQ est le quotient de localisation des acteurs-relais par "
        "entreprise rapporté à l’ensemble du répertoire ; D2 = équitabilité de Shannon "
        "sur toutes les catégories de la typologie ; D3 et D4 d’après les items Likert "
        "ramenés dans [0, 1] avec les bornes fixes de l’échelle, montrés à côté du score "
        "des transcriptions codées (présence, valence, intensité). Les répondants PME et "
        "acteurs-relais sont moyennés séparément, puis pondérés à égalité. Intervalles : "
        "un bootstrap stratifié par grappes (strates : type de répondant ; grappes : "
        "organisation), un codeur tiré au hasard pour les transcriptions codées deux "
        "fois, un bruit de Poisson sur les effectifs du répertoire. Le composite n’est "
        "montré qu’à titre de résumé : moyenne géométrique (les D ne se compensent "
        "qu’en partie), avec la moyenne arithmétique à côté.",
        "en": "D1 = LQ/(1+LQ), the location quotient of relay actors per firm against the "
        "whole register; D2 = Shannon evenness over all categories of the typology; D3 "
        "and D4 from Likert items rescaled with the fixed anchors of the scale, shown "
        "beside the score from coded transcripts (presence, valence, intensity). SME and "
        "relay-actor respondents are averaged separately, then weighted equally. "
        "Intervals: one stratified cluster bootstrap (strata: respondent type; clusters: "
        "organisation), one coder drawn at random for double-coded transcripts, Poisson "
        "noise on register counts. The composite is shown only as a summary: geometric "
        "(the D's only partly compensate each other) with the arithmetic mean beside it.",
    },
    "report.warnings": {"fr": "Avertissements", "en": "Warnings"},
    "report.comparison": {"fr": "Comparaison", "en": "Comparison"},
    "report.alpha": {
        "fr": "Fiabilité des échelles (alpha de Cronbach)",
        "en": "Scale reliability (Cronbach's alpha)",
    },
    "report.triangulation": {
        "fr": "Triangulation : Likert et transcriptions codées, par répondant",
        "en": "Triangulation: Likert vs coded transcripts, per respondent",
    },
    "report.no_respondents": {"fr": "Aucun score de répondant.", "en": "No respondent scores."},
    "report.gap": {"fr": "écart > 0,2", "en": "gap > 0.2"},
    "decimal_mark": {"fr": ",", "en": "."},
    # an interval of two numbers; French bounds are split by a semicolon, as the decimal
    # comma would make "[0,408, 0,559]" ambiguous
    "interval": {"fr": "[{low} ; {high}]", "en": "[{low}, {high}]"},
    # settings line of the report
    "setting": {"fr": "{name} : {value}", "en": "{name}: {value}"},
    "setting.level": {"fr": "échelon", "en": "level"},
    "setting.n_boot": {"fr": "réplications bootstrap", "en": "bootstrap replicates"},
    "setting.seed": {"fr": "graine", "en": "seed"},
    "setting.conf": {"fr": "niveau de confiance", "en": "confidence level"},
    "setting.statuses": {"fr": "statuts", "en": "statuses"},
    "setting.n_interviews": {"fr": "entretiens", "en": "interviews"},
    # values of the settings line (codes in profile_meta.json)
    "level.commune": {"fr": "commune", "en": "commune"},
    "level.departement": {"fr": "département", "en": "département"},
    "level.region": {"fr": "région", "en": "region"},
    "level.zone_emploi": {"fr": "zone d'emploi", "en": "employment zone"},
    "status.draft": {"fr": "brouillon", "en": "draft"},
    "status.submitted": {"fr": "soumis", "en": "submitted"},
    "status.has_issues": {"fr": "à corriger", "en": "has issues"},
    "status.approved": {"fr": "approuvé", "en": "approved"},
    "status.rejected": {"fr": "rejeté", "en": "rejected"},
    # table headers of the report (the cell values are data and stay as they are)
    "column.dimension": {"fr": "Dimension", "en": "Dimension"},
    "column.source": {"fr": "Source", "en": "Source"},
    "column.value": {"fr": "Valeur", "en": "Value"},
    "column.ci_low": {"fr": "Borne basse", "en": "Lower bound"},
    "column.ci_high": {"fr": "Borne haute", "en": "Upper bound"},
    "column.n_sme": {"fr": "PME", "en": "SMEs"},
    "column.n_relay": {"fr": "Acteurs-relais", "en": "Relay actors"},
    "column.flag": {"fr": "Écart", "en": "Gap"},
    "column.note": {"fr": "Note", "en": "Note"},
    "column.n_basis": {"fr": "n (base)", "en": "n (basis)"},
    "column.n_coders": {"fr": "Codeurs", "en": "Coders"},
    "column.n_firms": {"fr": "Entreprises", "en": "Firms"},
    "column.respondent_type": {"fr": "Type de répondant", "en": "Respondent type"},
    "column.alpha": {"fr": "Alpha", "en": "Alpha"},
    "column.n_items": {"fr": "Items", "en": "Items"},
    "column.n_complete": {"fr": "Répondants complets", "en": "Complete respondents"},
    "column.territory_code": {"fr": "Territoire", "en": "Territory"},
    "column.respondents": {"fr": "Répondants", "en": "Respondents"},
    "column.flagged": {"fr": "Signalés (écart > 0,2)", "en": "Flagged (gap > 0.2)"},
    "column.share_flagged": {"fr": "Part signalée", "en": "Share flagged"},
}


def check_lang(lang: str) -> str:
    """Return lang if the charts and report speak it, else raise ValueError."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def texts(lang: str) -> dict[str, str]:
    """Return the table in one language: key -> text."""
    check_lang(lang)
    return {key: both[lang] for key, both in TEXTS.items()}


def decimal_text(value: float, mark: str = ".", digits: int = 3) -> str:
    """Return value with digits decimals and the decimal mark, never "-0.000": a value
    that rounds to zero is written as zero (the report, the page and the chart ticks)."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}".replace(".", mark)


#: table columns and report settings whose values are codes shown by name:
#: column or setting -> key prefix in TEXTS
CODED = {
    "dimension": "",
    "source": "source.",
    "respondent_type": "respondent.",
    "level": "level.",
    "statuses": "status.",
}


def territory_label(name: object, code: object) -> str:
    """'Hérault (34)', or the code alone when the territory has no name of its own (no
    name, or a geography table whose name column repeats the code)."""
    name, code = ("" if name is None else str(name)), str(code)
    return f"{name} ({code})" if name and name != code else code


def code_label(field: str, code: object, words: dict[str, str]) -> str | None:
    """Return the name of a code held by a table column or a setting (a dimension, a
    source, a respondent type, a level, an interview status) in the language of words, or
    None if the field holds no code or the code is unknown."""
    prefix = CODED.get(field)
    return None if prefix is None else words.get(f"{prefix}{code}")


#: English phrases of profile notes, alpha notes and warnings -> French
NOTE_PHRASES: dict[str, str] = {
    "territory not in registry table": "territoire absent de la table du répertoire",
    "no relay actor or no firm base": "aucun acteur-relais ou aucune entreprise de base",
    "no interview": "aucun entretien",
    "no Likert item answered": "aucun item Likert renseigné",
    "not coded": "non codé",
    "only sme respondents": "répondants PME seulement",
    "only relay respondents": "répondants acteurs-relais seulement",
    "a dimension is missing": "une dimension manque",
    "fewer than two items": "moins de deux items",
    "fewer than two complete respondents": "moins de deux répondants complets",
    "no variance in total score": "aucune variance du score total",
    "no interval: a dimension rests on too few": (
        "pas d’intervalle : une dimension repose sur trop peu d’entretiens"
    ),
}
#: (English pattern, French template) for phrases that carry numbers or codes
NOTE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"fewer than (?P<n>\d+) interviews in a stratum"),
        "moins de {n} entretiens dans une strate",
    ),
    (re.compile(r"coding score used for (?P<dims>.+)"), "score du codage utilisé pour {dims}"),
    (
        re.compile(r"too few coded interviews \(n = (?P<n>\d+)\)"),
        "trop peu d’entretiens codés (n = {n})",
    ),
    (
        re.compile(r"too few answered interviews \(n = (?P<n>\d+)\)"),
        "trop peu d’entretiens renseignés (n = {n})",
    ),
    (
        re.compile(
            r"(?P<level>\w+) (?P<code>\S+): (?P<k>\d+) (?P<who>sme|relay) interview\(s\),"
            r" fewer than (?P<n>\d+); D3/D4 are fragile"
        ),
        "{level} {code} : {k} entretien(s) {who}, moins de {n} ; D3/D4 fragiles",
    ),
]


def translate_note(text: str, lang: str) -> str:
    """Return a note or warning written by the computation (English) in lang.

    A note joins phrases with "; "; each known phrase is translated, an unknown one is
    kept as written (never dropped).
    """
    check_lang(lang)
    if lang == "en" or not text:
        return text
    whole = _translate_phrase(text)  # a warning holds "; " inside one phrase
    if whole is not None:
        return whole
    return " ; ".join(_translate_phrase(p) or p for p in text.split("; "))


def _translate_phrase(phrase: str) -> str | None:
    if phrase in NOTE_PHRASES:
        return NOTE_PHRASES[phrase]
    for pattern, template in NOTE_PATTERNS:
        m = pattern.fullmatch(phrase)
        if m:
            fields = m.groupdict()
            if "level" in fields:
                level = TEXTS.get(f"level.{fields['level']}")
                fields["level"] = level["fr"] if level else fields["level"]
            if "who" in fields:
                fields["who"] = TEXTS[f"respondent.{fields['who']}"]["fr"]
            return template.format(**fields)
    return None
