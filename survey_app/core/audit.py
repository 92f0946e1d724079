"""The append-only audit trail: every write calls record()."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from survey_app.extensions import db
from survey_app.models import AuditEvent


def record(
    action: str,
    obj: Any = None,
    payload: dict[str, Any] | None = None,
    *,
    user: Any = None,
    object_type: str | None = None,
    object_id: Any = None,
) -> AuditEvent:
    """Add an audit event for `action` on `obj` by `user` (default: the logged-in user)."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if obj is not None:
        object_type = object_type or type(obj).__tablename__
        object_id = object_id if object_id is not None else getattr(obj, "id", None)
    event = AuditEvent(
        action=action,
        user_id=getattr(user, "id", None),
        object_type=object_type or "",
        object_id=None if object_id is None else str(object_id),
        payload=payload or {},
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    db.session.flush()
    return event


@sa.event.listens_for(AuditEvent, "before_update")
@sa.event.listens_for(AuditEvent, "before_delete")
def _refuse_change(_mapper, _connection, target: AuditEvent) -> None:
    raise RuntimeError(f"audit event {target.id} is append-only")
