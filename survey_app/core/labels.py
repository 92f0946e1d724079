"""Translated labels for stored values (roles, statuses), and the interface language."""

from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l


def lang() -> str:
    """The interface language of the current request ("fr" or "en")."""
    return str(get_locale())


ROLE_LABELS = {
    "fieldworker": _l("fieldworker"),
    "researcher": _l("researcher"),
    "admin": _l("administrator"),
}

STATUS_LABELS = {
    "draft": _l("draft"),
    "submitted": _l("submitted"),
    "has_issues": _l("has issues"),
    "approved": _l("approved"),
    "rejected": _l("rejected"),
}

KIND_LABELS = {"sme": _l("SME"), "relay": _l("Relay actor")}

JOB_STATUS_LABELS = {
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
}

#: INSEE headcount bands (trancheEffectifs) as people read them
SIZE_BAND_LABELS = {
    "NN": _l("no employee on record"),
    "00": _l("0 employees"),
    "01": _l("1 or 2 employees"),
    "02": _l("3 to 5 employees"),
    "03": _l("6 to 9 employees"),
    "11": _l("10 to 19 employees"),
    "12": _l("20 to 49 employees"),
    "21": _l("50 to 99 employees"),
    "22": _l("100 to 199 employees"),
    "31": _l("200 to 249 employees"),
    "32": _l("250 to 499 employees"),
    "41": _l("500 to 999 employees"),
    "42": _l("1,000 to 1,999 employees"),
    "51": _l("2,000 to 4,999 employees"),
    "52": _l("5,000 to 9,999 employees"),
    "53": _l("10,000 employees or more"),
}


def category_labels() -> dict[str, str]:
    """Relay-actor categories of the typology, named in the interface language."""
    from analysis.typology import load_typology

    return {
        c.key: c.label.get(lang(), c.label.get("en", c.key)) for c in load_typology().categories
    }


def status_count_label(status: str, n: int) -> str:
    """The words after a count of interviews in a status: "1 approuvé", "32 approuvés"."""
    if status == "draft":
        return ngettext("draft interview", "draft interviews", n)
    if status == "submitted":
        return ngettext("submitted interview", "submitted interviews", n)
    if status == "has_issues":
        return ngettext("interview to correct", "interviews to correct", n)
    if status == "approved":
        return ngettext("approved interview", "approved interviews", n)
    if status == "rejected":
        return ngettext("rejected interview", "rejected interviews", n)
    return status


def count_label(what: str, n: int) -> str:
    """The words after a count on the home page, agreeing with the count."""
    if what == "transcripts":
        return ngettext("transcript", "transcripts", n)
    if what == "my_codings":
        return ngettext("of my codings", "of my codings", n)
    if what == "suggestions":
        return ngettext("model suggestion to review", "model suggestions to review", n)
    if what == "interviews":
        return ngettext("interview", "interviews", n)
    return what
