"""Bearer-token authentication for the read-only API: no cookies, no CSRF."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from survey_app.api.tokens import user_for_token
from survey_app.core.errors import json_error
from survey_app.models import User


def token_required(*roles: str) -> Callable:
    """Let requests with a live token through (of a user with one of `roles`, if given)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            scheme, _, text = request.headers.get("Authorization", "").partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="milieu"'}
            if scheme.lower() != "bearer" or not text.strip():
                return json_error(401, "send a token: Authorization: Bearer <token>", **challenge)
            user = user_for_token(text.strip())
            if user is None:
                return json_error(401, "unknown or revoked token", **challenge)
            if roles and not user.has_role(*roles):
                return json_error(403, "your role may not use this endpoint")
            g.api_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


def api_user() -> User:
    """Return the user of the current API request."""
    return g.api_user
