"""Data versions the same transaction bumps, so that cached rankers know when they are stale.

Why: a ranker over every open target (and one over every seeking laborer) takes seconds to build
at province scale and milliseconds to ask; it is worth keeping only if knowing that it is still
current costs less than asking it. Reading two indexed rows of `DataVersion` does.

What moves: every flush that adds, changes or deletes an opening, batch, welfare post or pickup
point marks ``targets``; a placement marks ``holdings`` and the targets whose held slots it
changes; a laborer or household, or a placement that is or was working or holds a welfare post
(what a laborer's household facts are made of), marks ``laborers``; a user, a cadre's village or an
API token marks ``accounts`` (what a request's caller is authenticated from: `accounts.user_for_token`).
Before the transaction commits, the marked counters go up by one and each changed target's row is
stamped with the new ``holdings`` version, all in that transaction: the versions commit or roll back
with the change.
Writers serialise on the counter row, so versions follow commit order and a reader that saw
version v has seen every change stamped v or lower.

Writes that bypass the ORM (a seed's bulk load) call `bump` themselves.

`now` is what one transaction reads of the versions, once: the counters and the stamps other caches
asked to have read beside them (`read_beside`), in one statement, kept in ``session.info`` under
`TRANSACTION_INFO` until the transaction ends. Authentication reads it first, so the rankers that ask
next cost no statement of their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ScalarSelect, Select, Table, event, func, inspect, literal, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql import visitors

from ..models import (
    ApiToken,
    DataVersion,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Placement,
    PlacementStatus,
    TransportBatch,
    User,
    UserVillage,
    WelfarePost,
)

TARGETS, HOLDINGS, LABORERS, ACCOUNTS = "targets", "holdings", "laborers", "accounts"
SCOPES = (TARGETS, HOLDINGS, LABORERS, ACCOUNTS)
PENDING = "jiuye_versions_pending"
#: session.info keys with this prefix hold what one transaction knows; its end forgets them
#: (`accounts.install`).
TRANSACTION_INFO = "jiuye_tx:"
_NOW = TRANSACTION_INFO + "versions"

_TARGET_MODELS = (Opening, TransportBatch, WelfarePost, PickupPoint)
#: Placement columns naming the target, by the kind the rankers use.
_HELD_BY = {"opening": "opening_id", "batch": "batch_id", "welfare_post": "welfare_post_id"}


@dataclass
class _Pending:
    """Scopes and targets the transaction changed so far."""

    scopes: set[str] = field(default_factory=set)
    held: set[tuple[str, int]] = field(default_factory=set)


def _values(obj, name: str) -> set:
    """The attribute's value now and before this flush, without None."""
    history = inspect(obj).attrs[name].history
    values = {*history.added, *history.unchanged, *history.deleted, obj.__dict__.get(name)}
    return {v for v in values if v is not None}


def _collect(session: Session, _context) -> None:
    pending = session.info.setdefault(PENDING, _Pending())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, _TARGET_MODELS):
            pending.scopes.add(TARGETS)
        elif isinstance(obj, Placement):
            pending.scopes.add(HOLDINGS)
            for kind, column in _HELD_BY.items():
                pending.held.update((kind, target_id) for target_id in _values(obj, column))
            if PlacementStatus.WORKING in _values(obj, "status") or _values(obj, "welfare_post_id"):
                pending.scopes.add(LABORERS)
        elif isinstance(obj, Laborer | Household):
            pending.scopes.add(LABORERS)
        elif isinstance(obj, User | UserVillage | ApiToken):
            pending.scopes.add(ACCOUNTS)


#: The versions `_collect` moves on any change to a row of each table: a count over tables that are all
#: here is true until one of their versions moves (`count_rows`). Tables absent are followed by none.
FOLLOWED_BY: dict[str, tuple[str, ...]] = {
    **{model.__tablename__: (TARGETS,) for model in _TARGET_MODELS},
    Placement.__tablename__: (HOLDINGS,),
    Laborer.__tablename__: (LABORERS,),
    Household.__tablename__: (LABORERS,),
    User.__tablename__: (ACCOUNTS,),
    UserVillage.__tablename__: (ACCOUNTS,),
    ApiToken.__tablename__: (ACCOUNTS,),
}


def _upsert(session: Session):
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(DataVersion)


def bump(session: Session, scopes: Iterable[str], held: Iterable[tuple[str, int]] = ()) -> dict[str, int]:
    """Move the given scopes' counters on, stamp the targets whose held slots changed; new versions."""
    held = sorted(set(held))
    scopes = sorted(set(scopes) | ({HOLDINGS} if held else set()))
    insert = _upsert(session)
    new: dict[str, int] = {}
    # A counter starts at the clock (µs), not 1: emptied tables (a restored or reset database)
    # then never give a version a cache has already seen for other data.
    start = time.time_ns() // 1000
    for scope in scopes:  # sorted: concurrent writers take the counter rows in one order
        session.execute(
            insert.values(scope=scope, version=start).on_conflict_do_update(
                index_elements=[DataVersion.scope], set_={"version": DataVersion.version + 1}
            )
        )
        new[scope] = session.execute(select(DataVersion.version).where(DataVersion.scope == scope)).scalar_one()
    if held:
        stamp = insert.on_conflict_do_update(
            index_elements=[DataVersion.scope], set_={"version": insert.excluded.version}
        )
        session.execute(stamp, [{"scope": f"{kind}:{target_id}", "version": new[HOLDINGS]} for kind, target_id in held])
    return new


_CURRENT: dict[tuple[str, ...], Any] = {}


def current(session: Session, **also: ScalarSelect[Any]) -> dict[str, int]:
    """The counters now (0 for a scope never bumped), and in the same statement each of ``also``, an integer
    scalar select of another cache stamp (0 when null): one round trip per request, however many stamps.

    The statement is built once per set of stamps (this is every request's first read): its stamps are
    module constants, so the names say which statement it is."""
    query = _CURRENT.get(tuple(also))
    if query is None:
        query = _CURRENT[tuple(also)] = union_all(
            select(DataVersion.scope, DataVersion.version).where(DataVersion.scope.in_(SCOPES)),
            *(select(literal(name), func.coalesce(stamp, 0)) for name, stamp in also.items()),
        )
    return {scope: 0 for scope in (*SCOPES, *also)} | {scope: int(v) for scope, v in session.execute(query).all()}


#: The stamps `now` reads beside the counters, by name (`read_beside`).
_BESIDE: dict[str, ScalarSelect[Any]] = {}


def read_beside(**stamps: ScalarSelect[Any]) -> None:
    """Have `now` read these stamps (integer scalar selects, as for `current`) in every transaction's one
    statement: a cache that needs them on every request asks here once, at import."""
    _BESIDE.update(stamps)


def now(session: Session) -> dict[str, int]:
    """`current` with every stamp asked for by `read_beside`, read once per transaction (within one, the
    versions a cache is checked against do not move)."""
    names = tuple(_BESIDE)
    read = session.info.get(_NOW)
    if read is None or read[0] != names:  # a stamp asked for after this transaction's read: read again
        read = session.info[_NOW] = (names, current(session, **_BESIDE))
    return read[1]


@dataclass
class _Count:
    stamps: tuple[int, ...]
    rows: int


#: Counts kept per process, per database, at most (past it, the process starts again).
COUNTS_MAX = 1_000
_counts: dict[str, dict[tuple[Any, ...], _Count]] = {}


def count_rows(session: Session, query: Select[Any]) -> int:
    """How many rows ``query`` selects (its order dropped): a list's pager, on every page of it.

    Counting a province office's million laborers takes about 0.3 s on SQLite, on every page it turns.
    The count is kept per process and database, under the statement and its parameters (the caller's
    scope and filters are in them), until a data version following one of the tables it reads moves
    (`FOLLOWED_BY`); meanwhile a page costs no count, the versions being read once per transaction anyway.
    It is counted afresh when a table it reads is followed by no version, while such a version has never
    moved (rows written around jiuye), or once this transaction has changed what it counts.
    """
    counting = select(func.count()).select_from(query.order_by(None).subquery())
    tables = {element.name for element in visitors.iterate(counting) if isinstance(element, Table)}
    followed = [FOLLOWED_BY.get(name) for name in sorted(tables)]
    scopes = sorted({scope for versions in followed if versions for scope in versions})
    if not all(followed) or any(changed_here(session, scope) for scope in scopes):
        return session.scalar(counting) or 0
    read = now(session)
    stamps = tuple(read[scope] for scope in scopes)
    if not all(stamps):
        return session.scalar(counting) or 0
    bind = session.get_bind()
    compiled = counting.compile(bind)
    key = (str(compiled), tuple(sorted((name, repr(value)) for name, value in compiled.params.items())))
    kept = _counts.setdefault(str(bind.engine.url), {})
    found = kept.get(key)
    if found is not None and found.stamps == stamps:
        return found.rows
    rows = session.scalar(counting) or 0
    if len(kept) >= COUNTS_MAX:
        kept.clear()
    kept[key] = _Count(stamps, rows)
    return rows


def held_changed_since(session: Session, version: int) -> list[tuple[str, int]]:
    """The targets whose held slots changed after the given ``holdings`` version."""
    scopes = session.scalars(
        select(DataVersion.scope).where(DataVersion.version > version, DataVersion.scope.not_in(SCOPES))
    )
    changed = []
    for scope in scopes:
        kind, _, target_id = scope.partition(":")
        changed.append((kind, int(target_id)))
    return changed


def changed_here(session: Session, scope: str) -> bool:
    """May this transaction's own writes so far (flushed, or still only in the session) have moved `scope`?
    A cache current at the versions read cannot stand in for a query then: the query would see them."""
    pending = session.info.get(PENDING)
    return bool(session.new or session.dirty or session.deleted) or (pending is not None and scope in pending.scopes)


def _before_commit(session: Session) -> None:
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.pop(PENDING, None)
    if pending and (pending.scopes or pending.held):
        bump(session, pending.scopes, pending.held)


def _after_soft_rollback(session: Session, previous_transaction) -> None:
    # Only when the whole transaction is gone: a savepoint's rollback keeps the outer changes.
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)


def install(sessions: Any) -> None:
    """Bump the versions on the sessions of `sessions` (the app's scoped session; idempotent)."""
    for name, listener in (
        ("after_flush", _collect),
        ("before_commit", _before_commit),
        ("after_soft_rollback", _after_soft_rollback),
    ):
        if not event.contains(sessions, name, listener):
            event.listen(sessions, name, listener)
