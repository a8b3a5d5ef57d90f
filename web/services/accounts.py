"""Users, passwords, API tokens and the audit trail."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, event, insert, inspect, select, update
from sqlalchemy.orm import Session, SessionTransaction, make_transient_to_detached
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from .. import clock
from ..config import setting
from ..errors import DomainError, ValidationError
from ..models import ApiToken, AuditEvent, Employer, Region, RegionLevel, Role, User, UserVillage
from ..validation import check_phone
from . import scope, versions
from .login_guard import LoginGuard, login_guard
from .versions import TRANSACTION_INFO

MIN_PASSWORD_LENGTH = 8
#: zxcvbn reads at most this much of a password: its cost grows fast with length.
STRENGTH_INPUT_CHARS = 100


def _hash_method() -> str:
    """werkzeug's password hashing method: scrypt unless configured (tests use a cheaper pbkdf2)."""
    from flask import current_app, has_app_context

    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


@functools.cache
def dummy_hash(method: str) -> str:
    """A hash of a random password, made once per method: checking it costs what a real check does,
    so an unknown username answers as slowly as a known one."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def check_password_strength(password: str, *hints: str | None) -> None:
    """Refuse a short or easily guessed password (zxcvbn, which knows common passwords, words,
    dates and keyboard runs; `hints` are the user's own names, weak in their password too)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError.on("password", str(_l("at least %(n)s characters", n=MIN_PASSWORD_LENGTH)))
    inputs = [hint for hint in hints if hint]
    score = zxcvbn(password[:STRENGTH_INPUT_CHARS], user_inputs=inputs)["score"]
    if score < setting("PASSWORD_MIN_STRENGTH"):
        raise ValidationError.on(
            "password",
            str(_l("too easy to guess; use a longer phrase of several unrelated words")),
        )


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
    phone: str | None = None,
) -> User:
    """Create a user with a hashed password and the scope its role needs (and a phone to be called on)."""
    role = Role(role)
    check_password_strength(password, username, display_name)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError.on("username", "already taken")
    villages = list(village_codes)
    if role is Role.CADRE and not villages:
        raise ValidationError.on("village_codes", "a cadre needs at least one village")
    if role is Role.EMPLOYER and employer_id is None:
        raise ValidationError.on("employer_id", "an employer user needs an employer")
    if role is Role.OFFICE and not region_code:
        raise ValidationError.on("region_code", "an office user needs a region")
    # Named refusals, not a foreign-key error from the database.
    if role is Role.OFFICE and session.get(Region, region_code) is None:
        raise ValidationError.on("region_code", _l("unknown region %(code)s", code=region_code))
    if role is Role.EMPLOYER and session.get(Employer, employer_id) is None:
        raise ValidationError.on("employer_id", _l("unknown employer %(id)s", id=employer_id))
    for code in villages if role is Role.CADRE else ():
        village = session.get(Region, code)
        if village is None or village.level != RegionLevel.VILLAGE:
            raise ValidationError.on("village_codes", _l("unknown village %(code)s", code=code))
    if phone:
        try:
            phone = check_phone(phone)
        except ValueError as exc:
            raise ValidationError.on("phone", str(exc)) from None
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method=_hash_method()),
        display_name=display_name or username,
        phone=phone or None,
        role=role,
        employer_id=employer_id if role is Role.EMPLOYER else None,
        region_code=region_code if role is Role.OFFICE else None,
        villages=[UserVillage(village_code=code) for code in villages] if role is Role.CADRE else [],
    )
    session.add(user)
    session.flush()
    return user


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    remote_addr: str | None = None,
    guard: LoginGuard | None = None,
) -> User | None:
    """The enabled user with this username and password, else None.

    Every attempt is first counted by the login guard (LockedOutError when too many failed lately,
    per address and per username); a right password clears the count.
    """
    guard = guard or login_guard()
    guard.admit(username, remote_addr)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_enabled:
        # The same work as a real check, so that timing does not tell whether the username exists.
        check_password_hash(dummy_hash(_hash_method()), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    guard.succeeded(username, remote_addr)
    return user


def end_sessions(session: Session, user: User) -> None:
    """Void every session and API token the user holds (logout, password change)."""
    user.auth_epoch = User.auth_epoch + 1  # in SQL: two concurrent logouts both count
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    session.flush()
    session.refresh(user, ["auth_epoch"])


def user_for_session(session: Session, session_id: str) -> User | None:
    """The enabled user a session cookie names, if it was issued in the user's current epoch."""
    user_id, _, epoch = (session_id or "").partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None  # a cookie from before epochs, or forged: log in again
    known = _accounts_known(session)
    values = known.users.get(int(user_id)) if known is not None else None
    user: User | None
    if values is not None:
        user = _known_user(session, values)
    else:
        user = session.get(User, int(user_id))
        if user is not None and known is not None:
            known.keep(user)
    if user is None or not user.is_enabled or user.auth_epoch != int(epoch):
        return None
    return user


def change_password(session: Session, user: User, current: str, new: str, remote_addr: str | None = None) -> User:
    """Set a new password after checking the current one; every other session and token ends."""
    if authenticate(session, user.username, current, remote_addr=remote_addr) is None:
        raise ValidationError.on("current_password", str(_l("wrong password")))
    try:
        check_password_strength(new, user.username, user.display_name)
    except ValidationError as error:
        raise ValidationError(error.message, {"new_password": error.fields["password"]}) from None
    if check_password_hash(user.password_hash, new):
        raise ValidationError.on("new_password", str(_l("choose a password you have not used here")))
    user.password_hash = generate_password_hash(new, method=_hash_method())
    end_sessions(session, user)
    audit(session, "password_changed", user=user, remote_addr=remote_addr)
    return user


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


@dataclass
class _Known:
    """The users and live tokens this process has read at one accounts version (`versions.ACCOUNTS`):
    true for as long as that version stands, since every flush that touches a user, a cadre's village
    or a token moves it, in the transaction that commits the change."""

    version: int
    users: dict[int, dict[str, Any]] = field(default_factory=dict)  # a user's column values, by id
    tokens: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # token hash: (user id, expiry)

    def keep(self, user: User, token_hash: str | None = None, expires_at: datetime | None = None) -> None:
        if len(self.users) + len(self.tokens) >= KNOWN_MAX:
            self.users.clear()
            self.tokens.clear()
        self.users[user.id] = {attr.key: getattr(user, attr.key) for attr in inspect(User).column_attrs}
        if token_hash is not None and expires_at is not None:
            self.tokens[token_hash] = (user.id, expires_at)


#: Users and tokens kept per database, at most (a process holds no more; past it, it starts again).
KNOWN_MAX = 10_000
_known: dict[str, _Known] = {}


def _accounts_known(session: Session) -> _Known | None:
    """What this process knows of the accounts at the version this transaction reads (one statement a
    transaction, shared with the rankers: `versions.now`); None once the transaction changed accounts, or
    while the version has never moved (accounts written around jiuye: the version would not tell)."""
    if versions.changed_here(session, versions.ACCOUNTS):
        return None
    version = versions.now(session)[versions.ACCOUNTS]
    if not version:
        return None
    url = str(session.get_bind(mapper=User.__mapper__).engine.url)
    known = _known.get(url)
    if known is None or known.version != version:
        known = _known[url] = _Known(version)
    return known


def _known_user(session: Session, values: dict[str, Any]) -> User:
    """The user of these column values, in this session as if just read, without a statement
    (SQLAlchemy's `make_transient_to_detached` and `merge(load=False)`; relations load when asked)."""
    user = User(**values)
    make_transient_to_detached(user)
    return session.merge(user, load=False)


def user_for_token(session: Session, token: str) -> User | None:
    """The user a live (unexpired, unrevoked) token belongs to, else None.

    Every API request asks first. The token and its user are read once per accounts version and process
    (`_Known`); until the version moves, a request costs the one statement of the data versions, which
    the rankers it goes on to ask read anyway."""
    token_hash = _hash_token(token)
    known = _accounts_known(session)
    kept = known.tokens.get(token_hash) if known is not None else None
    values = known.users.get(kept[0]) if known is not None and kept is not None else None
    if kept is not None and values is not None:
        user, expires_at = _known_user(session, values), kept[1]
    else:
        # One statement for the token and its user.
        found = session.execute(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == token_hash)
        ).first()
        if found is None:
            return None
        row, user = found
        if row.revoked_at is not None:
            return None
        expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
        if known is not None:
            known.keep(user, token_hash, expires_at)
    if expires_at <= clock.now():
        return None
    return user if user.is_enabled else None


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
#: session.info key of the durable events written in the current transaction.
_DURABLE = TRANSACTION_INFO + "durable_audit"
#: The statement every audited read runs (built once).
_INSERT_EVENT = insert(AuditEvent.__table__).returning(AuditEvent.__table__.c.id)


def audit(
    session: Session,
    action: str,
    *,
    user: User | None = None,
    entity: Any = None,
    subject: str | None = None,
    subject_id: Any = None,
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
        entity_id=(
            str(entity.id)
            if entity is not None and hasattr(entity, "id")
            else str(subject_id)
            if subject_id is not None
            else None
        ),
        remote_addr=remote_addr,
        detail=detail or None,
    )
    columns = ("action", "at", "user_id", "username", "entity_type", "entity_id", "remote_addr", "detail")
    values = {name: getattr(event, name) for name in columns}
    if durable:
        session.connection()  # a transaction whose end writes the event
        session.info.setdefault(_DURABLE, []).append(values)
        return event
    # A Core insert on the transaction's connection (every read writes one: no unit-of-work bookkeeping); it
    # commits or rolls back with the request, savepoints included. The event returned is not in the session.
    event.id = session.connection().execute(_INSERT_EVENT, values).scalar_one()
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
    shown = {
        name: str(getattr(value, "value", value))
        for name, value in (filters or {}).items()
        if value not in (None, "", False)
    }
    return audit(
        session,
        action,
        user=user,
        subject=subject,
        remote_addr=remote_addr,
        filter=shown,
        rows=len(ids),
        ids=list(ids)[:AUDIT_MAX_IDS],
        **detail,
    )


def _forget_transaction(session: Session) -> dict[str, Any]:
    """Drop what the ended transaction knew from session.info; return it."""
    return {key: session.info.pop(key) for key in list(session.info) if key.startswith(TRANSACTION_INFO)}


def _write_durable(session: Session, transaction: SessionTransaction) -> None:
    """A transaction ended (committed, rolled back or closed): write its durable events on their own."""
    if transaction.parent is not None:
        return  # a savepoint: the transaction goes on
    rows = _forget_transaction(session).get(_DURABLE)
    if rows:
        with session.get_bind(mapper=AuditEvent.__mapper__).engine.begin() as connection:
            connection.execute(insert(AuditEvent), rows)


def install(sessions: Any) -> None:
    """Write durable audit events for the sessions of `sessions` (the app's scoped session; idempotent)."""
    if not event.contains(sessions, "after_transaction_end", _write_durable):
        event.listen(sessions, "after_transaction_end", _write_durable)


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
