"""People who use Milieu, their API tokens and their login attempts."""

import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from survey_app.models.base import Base, choice, utcnow

ROLES = ("fieldworker", "researcher", "admin")


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: login name, lower case
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(200), default="")
    email: Mapped[str | None] = mapped_column(sa.String(254))
    #: werkzeug hash (scrypt); never the password itself
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(choice(*ROLES, name="user_role"))
    #: interface language chosen by the user, None for the default
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_dt: Mapped[datetime | None]
    #: raised at each logout: the sessions (and remember cookies) issued before end there
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    def get_id(self) -> str:
        """What Flask-Login keeps in the session: the id and a tag of the password hash and
        the session epoch, so a new password or a logout ends the account's sessions
        (auth.operations.load_user), even a copy of the cookie kept from before."""
        secret = self.password_hash
        if self.session_epoch:  # epoch 0 keeps the tags issued before epochs existed
            secret = f"{secret}:{self.session_epoch}"
        tag = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]
        return f"{self.id}:{tag}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class LoginAttempt(Base):
    """One login attempt, kept to throttle repeated failures per name and per address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), index=True)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    success: Mapped[bool]
    attempted_dt: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ApiToken(Base):
    """A revocable personal token for the read-only API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    #: sha256 of the token
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_dt: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_dt: Mapped[datetime | None]
    revoked_dt: Mapped[datetime | None]
