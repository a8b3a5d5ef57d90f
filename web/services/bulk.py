"""Bulk writes of many rows inside the session's transaction (the seeds and the statistics summaries).

Values go through each column type's own bind processor (enum check, JSON, dates), then straight to
the driver: `executemany` on SQLite, COPY on PostgreSQL; SQLAlchemy's per-row statement machinery
would double the time. Values are processed a column at a time, and a column with few distinct values
(statuses, dates, timestamps, empty lists) has each distinct value processed once. Small batches take
the ordinary Core insert.

CHECK constraints still hold for every row written: on PostgreSQL COPY checks them as it goes; on
SQLite a table loaded whole is written with `PRAGMA ignore_check_constraints` on and then checked in
one pass by `PRAGMA quick_check(table)`, because SQLite evaluates its `IN (...)` lists row by row
at several microseconds each (7 of the 11 s of a million laborers) and the pass takes 3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, Constraint, DropConstraint, UniqueConstraint

CHUNK = 20_000
#: Below this many rows the plain Core insert is as fast and simpler.
BULK_MIN_ROWS = 5000
#: Rows handed to the driver at a time: bounds the memory of processed values.
DRIVER_CHUNK = 100_000


def bulk_insert(session: Session, table: Table, rows: Iterable[dict], *, rebuild_indexes: bool = True) -> int:
    """Write rows (dicts with the same keys) into table; returns how many.

    A big load drops the table's secondary indexes (and on PostgreSQL its foreign keys and unique
    constraints), writes the rows and restores them: one index build and one join per key beat a
    million single-row updates and trigger checks. The drop and the restore are part of the
    transaction (DDL is transactional on both databases), so all-or-nothing holds.
    ``rebuild_indexes=False`` keeps them instead: for a table that already holds far more rows than
    are added, and that others read meanwhile. Rows that carry their ids move the id sequence past
    them; rows without take the next ids.
    """
    rows = list(rows)
    if not rows:
        return 0
    names = list(rows[0])
    getter = itemgetter(*names)

    def columns(start: int, stop: int) -> list[Sequence]:
        # itemgetter and zip transpose a slice of rows in C, whatever each dict's key order.
        values = map(getter, rows[start:stop]) if len(names) > 1 else ((row[names[0]],) for row in rows[start:stop])
        return list(zip(*values, strict=True))

    return _load(session, table, names, len(rows), columns, rebuild_indexes)


def bulk_insert_columns(
    session: Session, table: Table, columns: Mapping[str, Sequence], *, rebuild_indexes: bool = True
) -> int:
    """Write rows given column by column (equal-length sequences); returns how many (``bulk_insert``'s
    ``rebuild_indexes``)."""
    names = list(columns)
    lengths = {len(columns[name]) for name in names}
    if len(lengths) > 1:
        raise ValueError(f"columns of {table.name} differ in length: {sorted(lengths)}")
    count = lengths.pop() if lengths else 0
    return _load(
        session, table, names, count, lambda start, stop: [columns[n][start:stop] for n in names], rebuild_indexes
    )


def _load(
    session: Session,
    table: Table,
    names: list[str],
    count: int,
    columns: Callable[[int, int], list[Sequence]],
    rebuild_indexes: bool = True,
) -> int:
    """Write count rows whose columns (in the order of names) `columns(start, stop)` slices.

    A big load drops the table's secondary indexes (and on PostgreSQL its foreign keys and unique
    constraints), writes the rows and restores them: one index build and one join per key beat a
    million single-row updates and trigger checks. The drop and the restore are part of the
    transaction (DDL is transactional on both databases), so all-or-nothing holds. On SQLite the
    same load defers the table's CHECK constraints to one pass over it (module docstring). Rows
    reach the driver a slice at a time, so memory stays bounded by the slice.
    """
    if not count:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if count < BULK_MIN_ROWS or dialect.name not in ("sqlite", "postgresql"):
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns(0, count), strict=True)]
        for start in range(0, count, CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])
    else:
        processors = [_memoised(table.c[name].type._cached_bind_processor(dialect)) for name in names]
        cursor = driver_connection(connection).cursor()
        indexes = list(table.indexes) if rebuild_indexes else []
        for index in indexes:
            index.drop(connection)
        # PostgreSQL can also drop (and rebuild) foreign keys and unique constraints in a transaction.
        constraints = _droppable_constraints(table) if dialect.name == "postgresql" and rebuild_indexes else []
        for constraint in constraints:
            connection.execute(DropConstraint(constraint))
        checks_deferred = dialect.name == "sqlite" and rebuild_indexes
        if checks_deferred:
            cursor.execute("PRAGMA ignore_check_constraints = ON")
        try:
            _copy_or_insert(cursor, dialect.name, table.name, names, count, columns, processors)
        except dialect.loaded_dbapi.IntegrityError as error:  # a CHECK, NOT NULL or key the driver met
            raise IntegrityError(f"bulk load of {table.name}", None, error) from error
        finally:
            if checks_deferred:
                cursor.execute("PRAGMA ignore_check_constraints = OFF")
        if checks_deferred:
            _check_table(cursor, table.name)
        if dialect.name == "postgresql" and indexes:
            # Sort each index in memory rather than in temporary files (this transaction only).
            connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        for constraint in constraints:
            connection.execute(AddConstraint(constraint))
        for index in indexes:
            index.create(connection)
    if "id" in names and dialect.name == "postgresql":
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'(SELECT max(id) FROM "{table.name}"))'
            )
        )
    return count


def _copy_or_insert(
    cursor: Any,
    dialect_name: str,
    name: str,
    names: list[str],
    count: int,
    columns: Callable[[int, int], list[Sequence]],
    processors: list[Callable[[Sequence], list] | None],
) -> None:
    """Hand the rows to the driver a slice at a time: executemany on SQLite, COPY on PostgreSQL."""
    quoted = ", ".join(f'"{column}"' for column in names)
    for start in range(0, count, DRIVER_CHUNK):
        processed = [
            values if process is None else process(values)
            for values, process in zip(columns(start, start + DRIVER_CHUNK), processors, strict=True)
        ]
        tuples = zip(*processed, strict=True)
        if dialect_name == "sqlite":
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f'INSERT INTO "{name}" ({quoted}) VALUES ({marks})', tuples)
        else:
            with cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
                for values in tuples:
                    copy.write_row(values)


def _check_table(cursor: Any, name: str) -> None:
    """Raise IntegrityError unless every row of the SQLite table meets its NOT NULL and CHECK
    constraints (`PRAGMA quick_check` on that table: one pass, index contents not compared)."""
    problems = [message for (message,) in cursor.execute(f'PRAGMA quick_check("{name}")').fetchall()]
    if problems != ["ok"]:
        raise IntegrityError(f"PRAGMA quick_check({name})", None, ValueError("; ".join(problems[:5])))


def driver_connection(connection: Connection) -> Any:
    """The driver's own connection (psycopg's, sqlite3's) under a SQLAlchemy connection in use."""
    raw = connection.connection.driver_connection
    if raw is None:  # only a pool entry that was invalidated has none
        raise RuntimeError("the database connection was invalidated")
    return raw


def _droppable_constraints(table: Table) -> list[Constraint]:
    """The table's foreign keys, and its unique constraints that no foreign key refers to."""
    referred = {
        fk.column for other in table.metadata.tables.values() for fk in other.foreign_keys if fk.column.table is table
    }
    uniques = [c for c in table.constraints if isinstance(c, UniqueConstraint) and not referred & set(c.columns)]
    return [*table.foreign_key_constraints, *uniques]


def _memoised(process: Callable | None) -> Callable[[Sequence], list] | None:
    """A column processor: a bind processor applied to a slice of values, once per distinct value
    when the values repeat enough (statuses, dates, timestamps, empty lists), else once per value."""
    if process is None:
        return None
    cache: dict = {}

    def apply(values: Sequence) -> list:
        kinds = set(map(type, values))
        keys: Sequence[Any]
        # Keys carry the type where types mix: 1 and True are equal keys but not the same JSON.
        if list in kinds:
            keys = [(tuple(v), tuple(map(type, v))) if type(v) is list else (v, type(v)) for v in values]
        elif len(kinds) == 1:
            keys = values
        else:
            keys = [(v, type(v)) for v in values]
        try:
            first = dict(zip(keys, values, strict=True))
        except TypeError:  # unhashable values (JSON objects): each one on its own
            return [None if v is None else process(v) for v in values]
        if len(first) * 2 > len(values):
            return [None if v is None else process(v) for v in values]
        for key, value in first.items():
            if key not in cache:
                cache[key] = None if value is None else process(value)
        return [cache[key] for key in keys]

    return apply
