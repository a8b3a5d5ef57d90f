"""Users with a role and a scope, their API tokens, and the audit trail."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, StrEnum, UtcDateTime, enum_column, utcnow


class Role(StrEnum):
    CADRE = "cadre"  # 村干部: scope = their villages
    EMPLOYER = "employer"  # scope = one employer
    OFFICE = "office"  # 扶贫办 / 人社局: scope = a region (county, city or province)


class User(UserMixin, Base):
    """Someone who logs in; what they may see follows from role and scope."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("(role = 'employer') = (employer_id IS NOT NULL)", name="employer_scope"),
        CheckConstraint("(role = 'office') = (region_code IS NOT NULL)", name="office_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(80))
    # A cadre's phone is given to the employer of an agreed placement (services.disclosure.cadre_contact).
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("employer.id"), default=None)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), default=None)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # Raised by logout and password change: sessions that carry an older value are void.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    employer = relationship("Employer")
    villages: Mapped[list[UserVillage]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.is_enabled

    def get_id(self) -> str:
        """What Flask-Login keeps in the session cookie: the id and the epoch it was issued in."""
        return f"{self.id}:{self.auth_epoch}"

    @property
    def village_codes(self) -> list[str]:
        """The villages a cadre looks after."""
        return [v.village_code for v in self.villages]


class UserVillage(Base):
    """A village in a cadre's scope."""

    __tablename__ = "user_village"

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("region.code"), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="villages")


class ApiToken(Base):
    """A bearer token for the JSON API; only its hash is stored; it expires and can be revoked."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), default=None)

    user: Mapped[User] = relationship()


class LoginCounter(Base):
    """Login attempts per key within a fixed window, shared by every process (without Redis).

    The key is a digest of the (username, address) pair or of the username alone; one atomic
    upsert counts an attempt (web.services.login_guard).
    """

    __tablename__ = "login_counter"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_ends_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class AuditEvent(Base):
    """Who read or changed what, when and from where. Append-only: the database refuses changes."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True, default=None)
    username: Mapped[str | None] = mapped_column(String(64), default=None)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(40), default=None)
    entity_id: Mapped[str | None] = mapped_column(String(40), default=None)
    remote_addr: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict | None] = mapped_column(JSON, default=None)


# The database itself keeps the audit trail append-only (issue 10, part 4): whoever asks, the ORM's
# unit of work, a bulk update()/delete() or plain SQL, an UPDATE or DELETE of audit_event fails.
# On PostgreSQL a role that does not own the table cannot drop the trigger (`jiuye db
# grant-app-role`). The revision 20261201_5c1e7a9d3b20 creates exactly these statements; tests
# build the schema with create_all, which runs them through the after_create events below.
APPEND_ONLY_MESSAGE = "audit_event is append-only"

APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION USING MESSAGE = '{APPEND_ONLY_MESSAGE}: ' || TG_OP || ' refused', "
        "ERRCODE = 'insufficient_privilege'; END $$",
        # Per statement, so that TRUNCATE is refused too and even an UPDATE matching no row fails.
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()",
    ),
    "sqlite": (
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE refused'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE refused'); END",
    ),
}
#: Undoing APPEND_ONLY_DDL (the migration's downgrade; tests emptying SQLite tables between tests).
DROP_APPEND_ONLY_DDL: dict[str, tuple[str, ...]] = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event",
        "DROP FUNCTION IF EXISTS audit_event_append_only()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_event_no_update",
        "DROP TRIGGER IF EXISTS audit_event_no_delete",
    ),
}

for _dialect, _statements in APPEND_ONLY_DDL.items():
    for _statement in _statements:
        event.listen(AuditEvent.__table__, "after_create", DDL(_statement).execute_if(dialect=_dialect))
# Dropping the table drops its triggers; PostgreSQL's function outlives it unless dropped too.
event.listen(
    AuditEvent.__table__,
    "after_drop",
    DDL("DROP FUNCTION IF EXISTS audit_event_append_only()").execute_if(dialect="postgresql"),
)
