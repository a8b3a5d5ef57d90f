"""Letting the database decide: a savepoint around a write whose IntegrityError is an expected answer.

Services never commit or roll back the unit of work (`web.unit_of_work`). Where a rule is held by the
database itself (a unique ID number or household code, one welfare post per household), a service
runs the write inside `savepoint(...)`: if the database refuses it, only that block is undone, the
refusal becomes a domain error naming the field, and the rest of the unit (earlier rows of an
import, the audit trail) stays as it was, so the caller can go on or answer with the refusal.

The savepoint must open before the block changes anything: `Session.begin_nested()` flushes what is
pending first, outside the savepoint, so a row added before it would be refused outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Column
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..errors import DomainError


@contextmanager
def savepoint(session: Session, on_integrity: Callable[[IntegrityError], DomainError | None]) -> Iterator[None]:
    """Run the block in a SAVEPOINT; refused by the database, undo the block and raise on_integrity(error).

    `on_integrity` returns the domain error to raise, or None for a refusal nobody expected (the
    IntegrityError itself goes on, and the unit of work answers 500 with nothing saved).
    """
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        refusal = on_integrity(error)
        if refusal is None:
            raise
        raise refusal from None


def breaks_unique(error: IntegrityError, column: InstrumentedAttribute | Column) -> bool:
    """Whether the database refused a second row with this column's value (a unique key or index)."""
    column = column.property.columns[0] if isinstance(column, InstrumentedAttribute) else column
    table, name = column.table.name, column.name
    if f"UNIQUE constraint failed: {table}.{name}" in str(error.orig):  # SQLite
        return True
    diag = getattr(error.orig, "diag", None)  # psycopg: unique_violation, with the key in its detail
    return (
        getattr(error.orig, "sqlstate", None) == "23505"
        and diag is not None
        and diag.table_name == table
        and f"Key ({name})=" in (diag.message_detail or "")
    )
