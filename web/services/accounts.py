"""Users, passwords, API tokens and the audit trail."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, event, func, insert, or_, select
from sqlalchemy.orm import Session, SessionTransaction
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import DomainError, PermissionDeniedError, ValidationError
from ..models import ApiToken, AuditEvent, Role, User, UserVillage

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


#: Ids one audit row of a list names at most (its `rows` says how many there were).
AUDIT_MAX_IDS = 200
#: session.info keys with this prefix hold what one transaction knows; its end forgets them.
TRANSACTION_INFO = "jiuye_tx:"
#: session.info key of the durable events written in the current transaction.
_DURABLE = TRANSACTION_INFO + "durable_audit"


def audit(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    entity: Any = None,
    subject: str | None = None,
    remote_addr: str | None = None,
    durable: bool = False,
    **detail: Any,
) -> AuditEvent:
    """Record who did what to which record (or, for a list, to which kind of record: `subject`), from where.

    A `durable` event is kept however the unit of work ends: a refused request that must still
    count (an "already registered" answer) is rolled back. It is not added to the session but
    written on a connection of its own once the transaction has ended, committed or not.
    """
    event = AuditEvent(
        action=action,
        at=datetime.now(UTC),
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else detail.pop("username", None),
        entity_type=type(entity).__tablename__ if entity is not None else subject,
        entity_id=str(entity.id) if entity is not None and hasattr(entity, "id") else None,
        remote_addr=remote_addr,
        detail=detail or None,
    )
    if durable:
        session.connection()  # a transaction whose end writes the event
        columns = ("action", "at", "user_id", "username", "entity_type", "entity_id", "remote_addr", "detail")
        session.info.setdefault(_DURABLE, []).append({name: getattr(event, name) for name in columns})
        return event
    session.add(event)
    session.flush()
    return event


def audit_read(
    session: Session,
    action: str,
    *,
    user: User,
    subject: str | None,
    ids: Sequence[Any],
    remote_addr: str | None = None,
    filters: Mapping[str, Any] | None = None,
    **detail: Any,
) -> AuditEvent:
    """One audit row for a read of many records: who, which filter, how many rows, which ids (capped)."""
    shown = {name: str(getattr(value, "value", value)) for name, value in (filters or {}).items()
             if value not in (None, "", False)}
    return audit(
        session, action, user=user, subject=subject, remote_addr=remote_addr, filter=shown,
        rows=len(ids), ids=list(ids)[:AUDIT_MAX_IDS], **detail,
    )


def _forget_transaction(session: Session) -> dict[str, Any]:
    """Drop what the ended transaction knew from session.info; return it."""
    return {key: session.info.pop(key) for key in list(session.info) if key.startswith(TRANSACTION_INFO)}


@event.listens_for(Session, "after_transaction_end")
def _write_durable(session: Session, transaction: SessionTransaction) -> None:
    """A transaction ended (committed, rolled back or closed): write its durable events on their own."""
    if transaction.parent is not None:
        return  # a savepoint: the transaction goes on
    rows = _forget_transaction(session).get(_DURABLE)
    if rows:
        with session.get_bind(mapper=AuditEvent.__mapper__).begin() as connection:
            connection.execute(insert(AuditEvent), rows)


def users_seen_by(office: User) -> Select:
    """Ids of the users whose actions an office may review: itself, and every user of its region
    (offices below it, cadres with a village in it, employers sited in it)."""
    from ..models import Employer

    region = office.region_code or ""
    return select(User.id).where(
        or_(
            User.id == office.id,
            and_(User.role == Role.OFFICE, User.region_code.startswith(region)),
            and_(
                User.role == Role.EMPLOYER,
                User.employer_id.in_(select(Employer.id).where(Employer.region_code.startswith(region))),
            ),
            and_(
                User.role == Role.CADRE,
                User.id.in_(
                    select(UserVillage.user_id).where(UserVillage.village_code.startswith(region))
                ),
            ),
        )
    )


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
    """The audit events an office may search, newest first, filtered.

    The rule, kept simple so that it can be checked: an event is in an office's trail when its
    user is the office itself or a user of its region (`users_seen_by`); a failed login, which has
    no user, is in it when its username is one of those users'. Events about records of the region
    done by users from outside it are in the trail of those users' own office.
    """
    if office.role is not Role.OFFICE:
        raise PermissionDeniedError("only offices search the audit trail")
    seen = users_seen_by(office)
    query = select(AuditEvent).where(
        or_(
            AuditEvent.user_id.in_(seen),
            and_(
                AuditEvent.user_id.is_(None),
                AuditEvent.username.in_(select(User.username).where(User.id.in_(seen))),
            ),
        )
    )
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
