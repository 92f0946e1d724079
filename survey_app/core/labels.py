"""Translated labels for stored values (roles, statuses)."""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "fieldworker": _l("fieldworker"),
    "researcher": _l("researcher"),
    "admin": _l("administrator"),
}
