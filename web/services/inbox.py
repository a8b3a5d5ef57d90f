"""Telling people (issue 13, part 6): who hears about a record, and their in-app inbox.

The recipients follow the access policy's scopes (`web.services.scope`): a village's cadres, the offices
whose region holds a place, an employer's users. `notify` writes one `Message` per recipient and is
idempotent per `key` (a clock ringing again for the same thing adds nothing), so the daily tick can run
twice. Messages hold a kind and parameters; `web.labels.message_text` renders them in the
reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from ..models import Message, Role, User, UserVillage


def cadres_of_village(session: Session, village_code: str) -> list[User]:
    """The enabled cadres who look after this village."""
    query = (
        select(User)
        .join(UserVillage, UserVillage.user_id == User.id)
        .where(UserVillage.village_code == village_code, User.role == Role.CADRE, User.is_enabled.is_(True))
        .order_by(User.id)
    )
    return list(session.scalars(query))


def offices_over(session: Session, region_code: str) -> list[User]:
    """The enabled office users whose region contains this place (county, city or province offices)."""
    query = (
        select(User)
        .where(
            User.role == Role.OFFICE,
            User.is_enabled.is_(True),
            User.region_code.is_not(None),
            literal(region_code).startswith(User.region_code),
        )
        .order_by(User.id)
    )
    return list(session.scalars(query))


def employer_users(session: Session, employer_id: int) -> list[User]:
    """The enabled users who act for this employer."""
    query = select(User).where(User.employer_id == employer_id, User.is_enabled.is_(True)).order_by(User.id)
    return list(session.scalars(query))


def notify(
    session: Session,
    recipients: Iterable[User],
    kind: str,
    *,
    params: dict[str, Any] | None = None,
    entity: Any = None,
    key: str | None = None,
) -> int:
    """Put one message of `kind` in each recipient's inbox; with a `key`, only where none has that key yet.

    Returns how many messages were written. `entity` (a model row) is what the message links to.
    """
    users = {user.id: user for user in recipients}
    if not users:
        return 0
    if key is not None:
        known = set(
            session.scalars(select(Message.user_id).where(Message.dedupe_key == key, Message.user_id.in_(users)))
        )
        users = {uid: user for uid, user in users.items() if uid not in known}
    entity_type = type(entity).__tablename__ if entity is not None else None
    entity_id = entity.id if entity is not None else None
    for user_id in users:
        session.add(
            Message(
                user_id=user_id,
                kind=str(kind),
                params=dict(params or {}),
                entity_type=entity_type,
                entity_id=entity_id,
                dedupe_key=key,
            )
        )
    session.flush()
    return len(users)


def unread_count(session: Session, user: User) -> int:
    """How many of the user's messages are unread (the navigation shows it)."""
    query = select(func.count()).select_from(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
    return session.scalar(query) or 0


def messages_of(session: Session, user: User) -> Any:
    """The user's messages, newest first (a select for paging)."""
    return select(Message).where(Message.user_id == user.id).order_by(Message.created_at.desc(), Message.id.desc())


def messages_page(session: Session, user: User, page: int, per_page: int) -> tuple[list[Message], int]:
    """One page of the user's messages, newest first, and how many there are."""
    total = session.scalar(select(func.count()).select_from(Message).where(Message.user_id == user.id)) or 0
    rows = session.scalars(messages_of(session, user).limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), total


def mark_read(session: Session, user: User, ids: Sequence[int] | None = None) -> int:
    """Mark the user's messages read (these ids, or all); another user's ids are ignored. Returns how many."""
    query = update(Message).where(Message.user_id == user.id, Message.read_at.is_(None))
    if ids is not None:
        query = query.where(Message.id.in_(list(ids)))
    result = session.execute(query.values(read_at=datetime.now(UTC)).execution_options(synchronize_session=False))
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
