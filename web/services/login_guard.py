"""Throttling password guesses so that a stranger cannot lock the owner out (issue 10, part 6).

Two fixed-window counters guard every password check: one per (username, source address), strict
(LOGIN_LOCKOUT_FAILURES in LOGIN_LOCKOUT_MINUTES), so that guesses from one place stop quickly
while the owner, elsewhere, still logs in; and one per username, slower (LOGIN_USER_MAX_FAILURES in
LOGIN_USER_WINDOW_MINUTES), against guesses spread over many addresses. An attempt is counted
*before* its password is checked, by one atomic increment, so twenty concurrent guesses get at
most five checks; a successful login clears both counters.

The counters live where every process sees them: Redis when REDIS_URL is set, else the database's
login_counter table (one upsert per attempt). Never in a process's memory. On PostgreSQL the upsert
is committed on its own connection, so that it holds whatever becomes of the request's transaction
and no row lock is kept while the password is hashed. On SQLite a login is a serial unit of work
that already holds the database's one write lock (web.sqlite), which a second connection would
wait for: there the upsert runs in the request's own transaction, which the unit of work keeps for
refused logins too (`unit_of_work.keep`), and the lock it holds makes the count exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from ..errors import DomainError
from ..models import LoginCounter
from ..models.base import utcnow


class LockedOutError(DomainError):
    """Too many failed logins lately for this username (from this address, or from anywhere)."""

    status = 429


class CounterStore(Protocol):
    """Shared, atomic counters that expire a fixed time after their first hit."""

    def hit(self, key: str, window_s: int) -> int:
        """Count one more hit on `key`; the hits in its current window, this one included."""

    def clear(self, *keys: str) -> None:
        """Forget the keys' hits."""


class RedisCounters:
    """Counters in Redis: SET NX EX starts a window, INCR counts, both in one MULTI."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis  # an optional dependency, needed only with REDIS_URL

        self.redis = redis.Redis.from_url(url)
        self.prefix = prefix

    def hit(self, key: str, window_s: int) -> int:
        name = self.prefix + key
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(name, 0, ex=window_s, nx=True)
        pipe.incr(name)
        return int(pipe.execute()[1])

    def clear(self, *keys: str) -> None:
        self.redis.delete(*(self.prefix + key for key in keys))


class DatabaseCounters:
    """Counters in the login_counter table: one INSERT … ON CONFLICT DO UPDATE … RETURNING per hit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(LoginCounter)
        return sqlite.insert(LoginCounter)

    def hit(self, key: str, window_s: int) -> int:
        now = utcnow()
        ends = now + timedelta(seconds=window_s)
        expired = LoginCounter.window_ends_at <= now
        insert = self._insert().values(key=key, hits=1, window_ends_at=ends)
        statement = insert.on_conflict_do_update(
            index_elements=[LoginCounter.key],
            set_={
                "hits": case((expired, 1), else_=LoginCounter.hits + 1),
                "window_ends_at": case((expired, ends), else_=LoginCounter.window_ends_at),
            },
        ).returning(LoginCounter.hits)
        with self._connection() as connection:
            hits = connection.execute(statement).scalar_one()
            # Old windows are swept now and then, so the table stays as small as the live keys.
            if hits == 1:
                connection.execute(LoginCounter.__table__.delete().where(expired))
        return hits

    def clear(self, *keys: str) -> None:
        with self._connection() as connection:
            connection.execute(LoginCounter.__table__.delete().where(LoginCounter.key.in_(keys)))

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """Where a count is written: its own short transaction, or on SQLite the request's (see above)."""
        if self.engine.dialect.name == "sqlite":
            from ..extensions import db

            yield db.session.connection()
            return
        with self.engine.begin() as connection:
            yield connection


@dataclass(frozen=True)
class Rule:
    """At most `max_attempts` password checks per key in `window_s` seconds."""

    max_attempts: int
    window_s: int


def _key(kind: str, *parts: str) -> str:
    # A digest: fixed length, and no username or address stored in clear in the counters.
    return kind + ":" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:64]


class LoginGuard:
    """The two rules of the module docstring over one counter store."""

    def __init__(self, store: CounterStore, per_address: Rule, per_username: Rule) -> None:
        self.store = store
        self.per_address = per_address
        self.per_username = per_username

    def _keys(self, username: str, remote_addr: str | None) -> tuple[str, str]:
        return _key("pair", username, remote_addr or "-"), _key("user", username)

    def admit(self, username: str, remote_addr: str | None) -> None:
        """Count this attempt; LockedOutError when either rule is exhausted (no password check then)."""
        pair, user = self._keys(username, remote_addr)
        if self.store.hit(pair, self.per_address.window_s) > self.per_address.max_attempts:
            minutes = max(1, self.per_address.window_s // 60)
            message = _l("too many failed logins from this address; try again in %(n)s minutes", n=minutes)
            raise LockedOutError(message, {"username": [message]})
        # Attempts refused above do not count here: one address alone cannot exhaust this rule.
        if self.store.hit(user, self.per_username.window_s) > self.per_username.max_attempts:
            minutes = max(1, self.per_username.window_s // 60)
            message = _l("too many failed logins for this username; try again in %(n)s minutes", n=minutes)
            raise LockedOutError(message, {"username": [message]})

    def succeeded(self, username: str, remote_addr: str | None) -> None:
        """The password was right: start both counts afresh."""
        self.store.clear(*self._keys(username, remote_addr))


def login_guard() -> LoginGuard:
    """The running app's guard (built once per app from its configuration)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy, typed as Flask
    guard = app.extensions.get("jiuye_login_guard")
    if guard is None:
        config = app.config
        if config.get("REDIS_URL"):
            store: CounterStore = RedisCounters(config["REDIS_URL"], config["LOGIN_COUNTER_PREFIX"])
        else:
            from ..extensions import db

            store = DatabaseCounters(db.engine)
        guard = LoginGuard(
            store,
            Rule(config["LOGIN_LOCKOUT_FAILURES"], config["LOGIN_LOCKOUT_MINUTES"] * 60),
            Rule(config["LOGIN_USER_MAX_FAILURES"], config["LOGIN_USER_WINDOW_MINUTES"] * 60),
        )
        app.extensions["jiuye_login_guard"] = guard
    return guard
