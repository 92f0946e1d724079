"""Whole numbers from URLs and query strings, bounded to what the database can hold.

Row ids and other whole-number columns are INTEGER: 32 bits on PostgreSQL (64 on SQLite). A
larger number overflows the driver or the database: such a request is a 404 (path) or a 400
(query string or body), never a 500.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter

#: the largest INTEGER both databases store (PostgreSQL's is signed 32 bits)
MAX_ID = 2**31 - 1
#: the largest page number a list accepts
MAX_PAGE = 1_000_000


class BoundedIntConverter(IntegerConverter):
    """Flask's `int` converter, refusing numbers no row id can have (the route is a 404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def bounded_int(value: Any) -> int:
    """int(value) for an id-sized number; ValueError otherwise (for args.get(type=...))."""
    if isinstance(value, bool):
        raise ValueError(value)
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError(value)
    return number


def page_number(name: str = "page") -> int:
    """The page asked for in the query string (1 when absent); 400 with a message if invalid."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return 1
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        abort(
            400,
            description=_("The page number must be a whole number from 1 to %(n)d.", n=MAX_PAGE),
        )
    return int(raw)
