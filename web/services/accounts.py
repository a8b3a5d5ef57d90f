"""Users, passwords, API tokens and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, event, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError, ValidationError
from ..models import ApiToken, AuditEvent, Role, User, UserVillage
from . import scope

MIN_PASSWORD_LENGTH = 8


def _hash_method() -> str:
    """werkzeug's password hashing method: scrypt unless configured (tests use a cheaper pbkdf2)."""
    from flask import current_app, has_app_context

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    display_name: str | None = None,
    *,
    employer_id: int | None = None,
    region_code: str | None = None,
    village_codes: Iterable[str] = (),
) -> User:
    """Create a user with a hashed password and the scope its role needs."""
    role = Role(role)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError.on("password", f"at least {MIN_PASSWORD_LENGTH} characters")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError.on("username", "already taken")
    villages = list(village_codes)
    if role is Role.CADRE and not villages:
        raise ValidationError.on("village_codes", "a cadre needs at least one village")
    if role is Role.EMPLOYER and employer_id is None:
        raise ValidationError.on("employer_id", "an employer user needs an employer")
    if role is Role.OFFICE and not region_code:
        raise ValidationError.on("region_code", "an office user needs a region")
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=_hash_method()),
        display_name=display_name or username,
        role=role,
        employer_id=employer_id if role is Role.EMPLOYER else None,
        region_code=region_code if role is Role.OFFICE else None,
        villages=[UserVillage(village_code=code) for code in villages]
        if role is Role.CADRE
        else [],
    )
    session.add(user)
    session.flush()
    return user


class LockedOutError(DomainError):
    """Too many failed logins for this username lately."""

    status = 429


def recent_failures(session: Session, username: str, window_minutes: int) -> int:
    """Failed logins for this username within the window, since its last successful login."""
    since = datetime.now(UTC) - timedelta(minutes=window_minutes)
    last_ok = session.scalar(
        select(func.max(AuditEvent.at)).where(AuditEvent.username == username, AuditEvent.action == "login")
    )
    if last_ok is not None:
        since = max(since, last_ok if last_ok.tzinfo else last_ok.replace(tzinfo=UTC))
    return session.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.username == username, AuditEvent.action == "login_failed", AuditEvent.at > since
        )
    )


def authenticate(
    session: Session, username: str, password: str, *, max_failures: int = 5, window_minutes: int = 15
) -> User | None:
    """The enabled user with this username and password, else None; locked out after repeated failures."""
    if recent_failures(session, username, window_minutes) >= max_failures:
        raise LockedOutError(
            f"too many failed logins for {username}; try again in {window_minutes} minutes",
            {"username": [f"locked for {window_minutes} minutes after {max_failures} failed logins"]},
        )
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_enabled:
        # Hash anyway so that timing does not tell whether the username exists.
        check_password_hash(generate_password_hash("x", method=_hash_method()), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, lifetime_s: int) -> tuple[str, ApiToken]:
    """A new bearer token for the user; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=_hash_token(token),
        expires_at=datetime.now(UTC) + timedelta(seconds=lifetime_s),
    )
    session.add(row)
    session.flush()
    return token, row


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live (unexpired, unrevoked) token belongs to, else None."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires_at <= datetime.now(UTC):
        return None
    return row.user if row.user.is_enabled else None


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token; True if it existed and was live."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    session.flush()
    return True


class AuditTrailError(DomainError):
    """Something tried to change or delete a recorded audit event."""

    status = 403


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _audit_is_append_only(mapper, connection, target) -> None:
    """The audit trail is append-only: the ORM refuses to change or delete an event."""
    raise AuditTrailError("the audit trail cannot be changed")


def audit(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    entity: Any = None,
    remote_addr: str | None = None,
    **detail: Any,
) -> AuditEvent:
    """Record who did what to which record, from where."""
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else detail.pop("username", None),
        entity_type=type(entity).__tablename__ if entity is not None else None,
        entity_id=str(entity.id) if entity is not None and hasattr(entity, "id") else None,
        remote_addr=remote_addr,
        detail=detail or None,
    )
    session.add(event)
    session.flush()
    return event


def audit_events(
    office: User,
    *,
    username: str | None = None,
    action: str | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    since_at: datetime | None = None,
    before_at: datetime | None = None,
) -> Select:
    """The audit events an office may search (`web.services.scope`: its region's users), newest
    first, filtered."""
    scope.require(office, "audit_trail")
    query = scope.scoped(AuditEvent, office)
    if username:
        query = query.where(AuditEvent.username == username)
    if action:
        query = query.where(AuditEvent.action == action)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    if since_at is not None:
        query = query.where(AuditEvent.at >= since_at)
    if before_at is not None:
        query = query.where(AuditEvent.at < before_at)
    return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
