"""User accounts and logins: create, authenticate, throttle."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import LoginAttempt, User, utcnow
from survey_app.models.users import ROLES


class UserError(ValueError):
    """A user-facing problem with account data."""


def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


def create_user(username: str, role: str, password: str, display_name: str = "") -> User:
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise UserError("the user name must have 1 to 64 characters")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if len(password) < 8:
        raise UserError("the password must have at least 8 characters")
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise UserError(f"a user named {username!r} exists already")
    user = User(username=username, role=role, display_name=display_name or username)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    record("user.create", user, {"username": username, "role": role})
    return user


def is_throttled(username: str, remote_addr: str | None) -> bool:
    """Tell whether recent failures for this name or this address exceed the limit."""
    cfg = current_app.config
    since = utcnow() - timedelta(seconds=cfg["LOGIN_FAILURE_WINDOW_SECONDS"])
    recent = sa.and_(LoginAttempt.success.is_(False), LoginAttempt.attempted_dt >= since)
    by_name = sa.select(sa.func.count()).where(recent, LoginAttempt.username == username)
    if db.session.scalar(by_name) >= cfg["LOGIN_MAX_FAILURES"]:
        return True
    if remote_addr is None:
        return False
    # an address gets more room than a name: colleagues may share one office address
    by_addr = sa.select(sa.func.count()).where(recent, LoginAttempt.remote_addr == remote_addr)
    return db.session.scalar(by_addr) >= 4 * cfg["LOGIN_MAX_FAILURES"]


def authenticate(username: str, password: str, remote_addr: str | None) -> User | None:
    """Return the user when the credentials are right; record the attempt either way."""
    username = username.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        _burn_time(password)
        ok = False
    else:
        ok = user.check_password(password) and user.is_enabled
    db.session.add(LoginAttempt(username=username, remote_addr=remote_addr, success=ok))
    if ok:
        user.last_login_dt = utcnow()
        record("auth.login", user, user=user)
    db.session.flush()
    return user if ok else None


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash("not a password", method=method)


def _burn_time(password: str) -> None:
    """Check a password against a dummy hash, so unknown names cost the same time."""
    check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
