"""Personal API tokens: created once, stored as their sha256, revocable."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from survey_app.core.audit import record
from survey_app.extensions import db
from survey_app.models import ApiToken, User, utcnow

PREFIX = "mil_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; return the row and the token text (shown only once)."""
    text = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip()[:100], token_hash=token_hash(text))
    db.session.add(token)
    db.session.flush()
    record("api_token.create", token, {"name": token.name}, user=user)
    return token, text


def revoke_token(token: ApiToken, user: User) -> None:
    """Revoke a token; it stops working at once."""
    if token.revoked_dt is None:
        token.revoked_dt = utcnow()
        db.session.flush()
        record("api_token.revoke", token, {"name": token.name}, user=user)


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            sa.select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_dt.desc(), ApiToken.id.desc())
        )
    )


def user_for_token(text: str) -> User | None:
    """Return the enabled user a live token belongs to (noting its use), else None."""
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(text)))
    if token is None or token.revoked_dt is not None:
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_enabled:
        return None
    token.last_used_dt = utcnow()
    return user
