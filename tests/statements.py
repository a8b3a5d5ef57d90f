"""The statements the app's engine runs while in a `with`, for tests that count what a path asks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event

from web.extensions import db


@contextmanager
def statements(keep: Callable[[str], bool] = lambda statement: True) -> Iterator[list[str]]:
    """The SQL of every statement the engine runs inside the `with` that `keep` accepts, in order."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if keep(statement):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
