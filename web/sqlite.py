"""SQLite, the embedded default, behaving like a server database: foreign keys on, a WAL journal, and
transactions that serialise every check with the write it allows.

**Why.** Left to itself, Python's sqlite3 driver opens a transaction only before its first INSERT or
UPDATE ("legacy transaction control"): a capacity check reads outside any transaction, so forty
cadres offering the last slot of an opening at once all see it free and eight of them got it. jiuye
switches the driver's handling off (`isolation_level = None` on connect) and emits BEGIN itself from
SQLAlchemy's "begin" event, as SQLAlchemy's SQLite documentation describes (section "Serializable
isolation / Savepoints / Transactional DDL" of the pysqlite dialect, now "Transactions with SQLite and
the sqlite3 driver"). The BEGIN it emits is `BEGIN IMMEDIATE`: the transaction takes SQLite's one
write lock when it begins, so a second writer waits at its BEGIN (up to `SQLITE_BUSY_TIMEOUT_S`) and
then reads what the first committed: the check and the insert of two offers can no longer interleave.

**Reads are not serialised.** Which transactions begin that way is the unit of work's call
(`web.unit_of_work.is_serial`): a request that changes things (POST, PUT, PATCH, DELETE), a CLI
command and a job's state changes are serial. A GET, a plan's long computation, and code outside any
unit run their statements in autocommit, as many at once as come (WAL lets readers run beside the
writer), until their first write (the audit row of a read, the plan's stored result); just before it,
`BEGIN IMMEDIATE` is emitted there and then, so that write and everything after it are one transaction
under the lock. What such a unit read before writing may have changed meanwhile, which is why only
units whose writes do not depend on it are left unserialised (an audit row; a plan proposal, which
confirmation re-checks under lock).

Plain (deferred) BEGIN is never used: a deferred transaction that has read cannot write once another
connection has committed since (SQLITE_BUSY_SNAPSHOT: "database is locked", without waiting), so a
page that audits its read would fail under load, and a plan whose progress is committed on a second
connection while it runs would always fail. SAVEPOINT counts as a write, so a savepoint never opens a
transaction of its own that its RELEASE would commit.
"""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import unit_of_work

#: Statements that run without a transaction outside a serial unit: they neither write nor open one.
_READS = frozenset({"SELECT", "PRAGMA", "EXPLAIN"})
#: Transaction control, passed through as it comes (the BEGIN below included).
_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE"})
_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z]+)")


def _first_word(statement: str) -> str:
    match = _FIRST_WORD.match(statement)
    return match.group(1).upper() if match else ""


def install(engine: Engine, busy_timeout_s: float) -> None:
    """Give a SQLite engine jiuye's pragmas and transaction handling (other databases: nothing)."""
    if engine.dialect.name != "sqlite":
        return
    busy_timeout_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: sqlite3.Connection, _record) -> None:
        # The driver emits no BEGIN of its own any more (nor a COMMIT before DDL): jiuye does, below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        if unit_of_work.is_serial():
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_writing(connection, cursor, statement, _parameters, _context, _executemany) -> None:
        dbapi_connection = cursor.connection
        if dbapi_connection.in_transaction:
            return
        word = _first_word(statement)
        if word in _CONTROL:
            return
        # A write outside a transaction, or a serial unit entered while its connection was already
        # begun (a request whose gate read the user first): take the lock now, before this statement.
        if word not in _READS or unit_of_work.is_serial():
            dbapi_connection.execute("BEGIN IMMEDIATE")
