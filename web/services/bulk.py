"""Bulk writes of many rows inside the session's transaction (the seed and the statistics summaries).

Values go through each column type's own bind processor (enum check, JSON, dates), then straight to
the driver: `executemany` on SQLite, COPY on PostgreSQL; SQLAlchemy's per-row statement machinery
would double the time. Small batches take the ordinary Core insert.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

CHUNK = 20_000
#: Below this many rows the plain Core insert is as fast and simpler.
BULK_MIN_ROWS = 5000


def bulk_insert(session: Session, table: Table, rows: Iterable[dict], *, rebuild_indexes: bool = True) -> int:
    """Write rows (dicts with the same keys) into table; returns how many.

    A big load drops the table's secondary indexes (and on PostgreSQL its foreign keys), writes the
    rows and restores them: one index build and one join per key beat a million single-row updates
    and trigger checks. The drop and the restore are part of the transaction (DDL is transactional
    on both databases), so all-or-nothing holds. ``rebuild_indexes=False`` keeps them instead: for
    a table that already holds far more rows than are added, and that others read meanwhile.
    Rows that carry their ids move the id sequence past them; rows without take the next ids.
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = session.connection()
    dialect = connection.dialect
    if len(rows) < BULK_MIN_ROWS or dialect.name not in ("sqlite", "postgresql"):
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])
    else:
        names = list(rows[0])
        processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
        columns = ", ".join(f'"{name}"' for name in names)
        cursor = connection.connection.driver_connection.cursor()
        tuples = (
            tuple(
                v if p is None or v is None else p(v)
                for v, p in zip(row.values(), processors, strict=True)
            )
            for row in rows
        )
        indexes = list(table.indexes) if rebuild_indexes else []
        for index in indexes:
            index.drop(connection)
        if dialect.name == "sqlite":
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', tuples)
        else:
            foreign_keys = list(table.foreign_key_constraints) if rebuild_indexes else []
            for constraint in foreign_keys:
                connection.execute(DropConstraint(constraint))
            with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                for values in tuples:
                    copy.write_row(values)
            for constraint in foreign_keys:
                connection.execute(AddConstraint(constraint))
        for index in indexes:
            index.create(connection)
    if "id" in rows[0] and dialect.name == "postgresql":
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'(SELECT max(id) FROM "{table.name}"))'
            )
        )
    return len(rows)
