"""Translated labels for stored values (roles, statuses)."""

from flask_babel import lazy_gettext as _l

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
