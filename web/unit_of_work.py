"""The unit of work: a request, a CLI command or a job owns exactly one transaction.

Services flush and use savepoints; they never commit or roll back. The transaction ends here, in one
of two shapes of the same rule (Indico's request handler, `indico/web/rh.py`, is the model):

- **A request.** `install` wraps every view of the app. When the view returns, the answer decides: a
  success (2xx) or a redirect (3xx) commits, anything else (a refused form's 422, a 404, a 500) rolls
  back; a view that raises rolls back before the error handlers render the error page, so they work
  on a clean session. The audit row of a read is written by a GET and kept by the same rule. A
  failing commit becomes the answer the error handlers give (`ConflictError` → 409 for an
  IntegrityError, the 503 of an OperationalError), never a 500 with half of the work saved; the
  flashed "saved" of a view whose commit failed is dropped. A streamed body runs after the commit: it
  may read, never write.
- **A CLI command or a job.** `with unit_of_work():` commits when its block ends and rolls back if the
  block raises. Several blocks in a row are several transactions (a plan job marks itself running in
  one, computes and stores its result in another, and records a failure in a third).

Two declarations let a view bend the rule where the answer's status says the wrong thing: `discard()`
(a preview that must keep nothing, a refusal shown with a flash and a redirect) and `keep()` (a refusal
whose record must stay: a failed login counts towards the lock-out). `after_commit(callback)` runs
work that needs the unit's writes to be visible to others (a plan handed to a background thread).

Each unit also says whether it is *serial*: on SQLite, a serial unit holds the write lock from its
first statement (`BEGIN IMMEDIATE`, see `web.sqlite`), so that what it checks is still true when it
writes. Requests that change things (POST, PUT, PATCH, DELETE), CLI commands and job state changes are
serial; GET requests are not. PostgreSQL ignores the flag: there, row locks (`with_for_update`) and
the database's constraints serialise the checks that matter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask import session as cookie_session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import ConflictError
from .extensions import db

#: Methods that only read: their units are not serial.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class _Unit:
    """What the running unit of work has been told."""

    serial: bool
    outcome: str | None = None  # None: by the rule; "discard" or "keep": as declared
    callbacks: list[Callable[[], None]] = field(default_factory=list)


_current: ContextVar[_Unit | None] = ContextVar("jiuye_unit_of_work", default=None)


def is_serial() -> bool:
    """Whether the running unit must hold SQLite's write lock from its first statement."""
    unit = _current.get()
    return unit is not None and unit.serial


def discard() -> None:
    """Roll this unit back whatever its answer (a preview; a refusal flashed on a redirect)."""
    unit = _current.get()
    if unit is not None:
        unit.outcome = "discard"


def keep() -> None:
    """Commit this unit although it answers with a refusal: its writes are the record of the refusal."""
    unit = _current.get()
    if unit is not None:
        unit.outcome = "keep"


def after_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once this unit has committed (never if it rolls back); at once outside a unit."""
    unit = _current.get()
    if unit is None:
        callback()
    else:
        unit.callbacks.append(callback)


def _finish(unit: _Unit, session: Session, *, succeeded: bool) -> None:
    """End the unit's transaction as the rule and the declarations say."""
    if unit.outcome == "discard" or (not succeeded and unit.outcome != "keep"):
        session.rollback()
        return
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        _drop_flashes()
        # A constraint that only the commit's final flush reached: someone saved a clashing record
        # meanwhile. The service that expects such a clash names the field through a savepoint.
        raise ConflictError("the change clashes with a record saved meanwhile; nothing was saved") from None
    except BaseException:
        session.rollback()
        _drop_flashes()
        raise
    for callback in unit.callbacks:
        callback()


def _drop_flashes() -> None:
    """A success flashed by a view whose commit then failed did not happen: do not show it."""
    if has_request_context():
        cookie_session.pop("_flashes", None)


@contextmanager
def unit_of_work(*, serial: bool = True) -> Iterator[Session]:
    """One transaction for a CLI command or a job: committed at the end, rolled back if the block raises."""
    unit = _Unit(serial=serial)
    token = _current.set(unit)
    session = db.session()
    try:
        try:
            yield session
        except BaseException:
            _finish(unit, session, succeeded=False)
            raise
        _finish(unit, session, succeeded=True)
    finally:
        _current.reset(token)


def _view_in_unit(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view, run as one unit of work whose end its answer decides."""

    @wraps(view)
    def in_unit(*args: Any, **kwargs: Any) -> Any:
        unit = _Unit(serial=request.method not in SAFE_METHODS)
        token = _current.set(unit)
        session = db.session()
        try:
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except BaseException:
                _finish(unit, session, succeeded=False)
                raise
            _finish(unit, session, succeeded=response.status_code < 400)
            return response
        finally:
            _current.reset(token)

    in_unit.in_unit_of_work = True  # type: ignore[attr-defined]
    return in_unit


def install(app: Flask) -> None:
    """Run every view of the app as a unit of work (called by create_app once all blueprints are in)."""
    for endpoint, view in app.view_functions.items():
        if not getattr(view, "in_unit_of_work", False):
            app.view_functions[endpoint] = _view_in_unit(view)
