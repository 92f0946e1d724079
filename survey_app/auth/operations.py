"""User accounts and logins: create, change, authenticate, throttle."""

from __future__ import annotations

import hmac
import math
from datetime import timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.core import refusals
from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import LoginAttempt, User, utcnow
from survey_app.models.users import ROLES

MIN_PASSWORD = 8


class UserError(refusals.UserError):
    """A refused change to an account; str() is the English message (command line)."""


def load_user(user_id: str) -> User | None:
    """The user of a session (its User.get_id), or None: unknown account, or a password
    changed since."""
    number, _sep, _tag = user_id.partition(":")
    user = db.session.get(User, int(number)) if number.isdigit() else None
    if user is None or not hmac.compare_digest(user.get_id(), user_id):
        return None
    return user


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(
            f"Rôle inconnu {role!r} (l’un de {', '.join(ROLES)}).",
            f"unknown role {role!r} (one of {', '.join(ROLES)})",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(
            f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.",
            f"the password must have at least {MIN_PASSWORD} characters",
        )


def create_user(username: str, role: str, password: str, display_name: str = "") -> User:
    username = username.strip().lower()
    if not username or len(username) > 64:
        raise UserError(
            "Le nom d’utilisateur doit compter de 1 à 64 caractères.",
            "the user name must have 1 to 64 characters",
        )
    _check_role(role)
    _check_password(password)
    if db.session.scalar(sa.select(User.id).where(User.username == username)):
        raise UserError(
            f"Un compte nommé {username!r} existe déjà.",
            f"a user named {username!r} exists already",
        )
    user = User(username=username, role=role, display_name=display_name or username)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.add(user)
    db.session.flush()
    record("user.create", user, {"username": username, "role": role})
    return user


def update_user(
    user: User, actor: User, *, display_name: str, role: str, is_enabled: bool
) -> dict[str, list]:
    """Change an account's name, role or state; return what changed (old, new).

    An administrator cannot take away their own role nor disable their own account: the
    site would risk having no administrator left, with no page to undo it.
    """
    _check_role(role)
    if user.id == actor.id and (role != "admin" or not is_enabled):
        raise UserError(
            "Vous ne pouvez ni retirer votre propre rôle d’administrateur·rice ni désactiver "
            "votre propre compte : demandez-le à un·e autre administrateur·rice.",
            "You cannot remove your own administrator role nor disable your own account: "
            "ask another administrator.",
        )
    wanted = {
        "display_name": display_name.strip() or user.username,
        "role": role,
        "is_enabled": bool(is_enabled),
    }
    changes = {k: [getattr(user, k), v] for k, v in wanted.items() if getattr(user, k) != v}
    for key, (_old, new) in changes.items():
        setattr(user, key, new)
    if changes:
        db.session.flush()
        record("user.update", user, {"username": user.username, **changes}, user=actor)
    return changes


def set_password(user: User, password: str, actor: User) -> None:
    """Give the account a new password (ending its other sessions); the audit trail says
    who did it, never the password."""
    _check_password(password)
    user.set_password(password, current_app.config["PASSWORD_HASH_METHOD"])
    db.session.flush()
    record("user.password", user, {"username": user.username, "by": actor.username}, user=actor)


def change_own_password(user: User, current: str, new: str) -> None:
    """A user's own change: the current password first, so a borrowed open session is not
    enough to take the account over."""
    if not user.check_password(current):
        raise UserError("Le mot de passe actuel est faux.", "The current password is wrong.")
    if current == new:
        raise UserError(
            "Le nouveau mot de passe est identique à l’actuel.",
            "The new password is the same as the current one.",
        )
    set_password(user, new, user)


def end_sessions(user: User) -> None:
    """End every session of the account on the server side (logout): copies of its cookie,
    remember cookies included, no longer log anyone in."""
    user.session_epoch = (user.session_epoch or 0) + 1
    db.session.flush()


def throttle_wait(username: str, remote_addr: str | None) -> int:
    """Seconds to wait before this name may try again from this address (0: go ahead).

    Two counts of recent failures, each with a backoff that doubles per further failure
    (LOGIN_BACKOFF_SECONDS, 2x, 4x... up to the window): the name from this address, limit
    LOGIN_MAX_FAILURES, and the name from anywhere, four times that. An address alone never
    locks anyone out: behind a proxy or a campus NAT the whole team shares one.
    """
    cfg = current_app.config
    window = cfg["LOGIN_FAILURE_WINDOW_SECONDS"]
    now = utcnow()
    recent = sa.and_(
        LoginAttempt.success.is_(False),
        LoginAttempt.attempted_dt >= now - timedelta(seconds=window),
        LoginAttempt.username == username,
    )
    checks = [(recent, 4 * cfg["LOGIN_MAX_FAILURES"])]
    if remote_addr is not None:
        checks.append(
            (sa.and_(recent, LoginAttempt.remote_addr == remote_addr), cfg["LOGIN_MAX_FAILURES"])
        )
    wait = 0.0
    for where, limit in checks:
        count, last = db.session.execute(
            sa.select(sa.func.count(), sa.func.max(LoginAttempt.attempted_dt)).where(where)
        ).one()
        if count < limit:
            continue
        backoff = min(window, cfg["LOGIN_BACKOFF_SECONDS"] * 2 ** min(count - limit, 20))
        wait = max(wait, (last + timedelta(seconds=backoff) - now).total_seconds())
    return max(0, math.ceil(wait))


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
