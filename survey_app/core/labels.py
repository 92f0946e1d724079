"""Translated labels for stored values (roles, statuses), and the interface language."""

from flask_babel import get_locale
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
