"""One permission helper used by every view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required


def roles_required(*roles: str) -> Callable:
    """Let logged-in users with one of `roles` through; others get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


#: who may do what; views name the capability, not the roles
researcher_required = roles_required("researcher", "admin")
admin_required = roles_required("admin")
staff_required = roles_required("fieldworker", "researcher", "admin")
