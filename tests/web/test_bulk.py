"""Bulk writes (executemany on SQLite, COPY on PostgreSQL) store exactly what the Core insert stores."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import ric

from seed.people import id_region
from web.extensions import db
from web.models import Laborer
from web.services.bulk import BULK_MIN_ROWS, bulk_insert, bulk_insert_columns

N = BULK_MIN_ROWS + 1000  # above the threshold: the driver path, not the Core insert
#: JSON lists whose items are equal as keys but not as JSON (1 == True), and repeats.
SKILLS = ([], ["sewing"], [1], [True], [1.5], ["sewing", "cooking"], [])


def id_number(birth_on: date, sequence: int) -> str:
    body = f"{id_region('141030', birth_on.year)}{birth_on:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def laborer_rows(household_id: int, first_id: int, sequence: int) -> list[dict]:
    """N laborers whose columns repeat (statuses, dates, lists) or vary row by row (positions)."""
    now = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    return [
        {
            "id": first_id + i,
            "household_id": household_id,
            "name": f"劳动力{i}",
            "id_number": id_number(date(1960, 1, 1) + timedelta(days=i), sequence),
            "birth_on": date(1960, 1, 1) + timedelta(days=i),
            "sex": "F",
            "phone": None if i % 3 else "13912345678",
            "physical_ability": ("full", "light", "none")[i % 3],
            "skills": SKILLS[i % len(SKILLS)],
            "work_area": "local",
            "max_commute_km": 5.0 + i % 7,
            "job_types": ["packaging"] if i % 2 else [],
            "pay_type": None if i % 4 else "piece",
            "needs_flexible_hours": bool(i % 5 == 0),
            "status": "seeking",
            "lat": 36.4 + i * 1e-6,
            "lon": 110.7 + i * 1e-6,
            "position_source": "synthetic",
            "registered_at": now - timedelta(days=i % 30),
            "updated_at": now,
        }
        for i in range(N)
    ]


def stored(ids: range) -> list[tuple]:
    """The rows with these ids as read back, without the id and ID number."""
    columns = [c for c in Laborer.__table__.c if c.name not in ("id", "id_number")]
    rows = db.session.execute(select(*columns).where(Laborer.id.in_(ids)).order_by(Laborer.id)).all()
    return [tuple(row) for row in rows]


@pytest.mark.parametrize("by_columns", [False, True])
def test_bulk_rows_read_back_as_core_inserted_rows(factory, by_columns):
    factory.region_tree()
    household = factory.household()
    bulk = laborer_rows(household.id, 1, sequence=2)
    core = laborer_rows(household.id, N + 1, sequence=4)
    if by_columns:
        written = bulk_insert_columns(db.session, Laborer.__table__, {k: [r[k] for r in bulk] for k in bulk[0]})
    else:
        written = bulk_insert(db.session, Laborer.__table__, bulk)
    db.session.execute(insert(Laborer), core)
    db.session.commit()
    assert written == N
    assert stored(range(1, N + 1)) == stored(range(N + 1, 2 * N + 1))
    # 1 == True in Python: compare the item types too, where a shared cache would mix them up.
    skills = db.session.scalars(select(Laborer.skills).where(Laborer.id <= len(SKILLS)).order_by(Laborer.id))
    assert [[(x, type(x)) for x in s] for s in skills] == [[(x, type(x)) for x in s] for s in SKILLS]


def test_columns_of_different_lengths_are_refused(app):
    with pytest.raises(ValueError, match="differ in length"):
        bulk_insert_columns(db.session, Laborer.__table__, {"id": [1, 2], "name": ["a"]})


def test_keys_and_unique_numbers_hold_again_after_a_bulk_load(factory):
    factory.region_tree()
    household = factory.household()
    bulk_insert(db.session, Laborer.__table__, laborer_rows(household.id, 1, sequence=2))
    same_number = laborer_rows(household.id, N + 1, sequence=2)[:1]
    no_household = laborer_rows(household.id + 1, N + 1, sequence=4)[:1]
    for row in (same_number, no_household):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(insert(Laborer), row)
    assert db.session.scalar(select(func.count()).select_from(Laborer)) == N


# (Enum columns refuse unknown values before the database: their bind processor checks them.)
@pytest.mark.parametrize("bad", [{"lat": 95.0}, {"max_commute_km": 900.0}, {"id_number": "14103019600101002"}])
def test_a_bulk_load_that_breaks_a_check_constraint_writes_nothing(factory, bad):
    """Every row meets the table's CHECK constraints (SQLite checks them after the load, in one pass)."""
    factory.region_tree()
    household = factory.household()
    rows = laborer_rows(household.id, 1, sequence=2)
    rows[N // 2].update(bad)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        bulk_insert(db.session, Laborer.__table__, rows)
    assert db.session.scalar(select(func.count()).select_from(Laborer)) == 0
    # The checks hold again for the next statement on this connection.
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(insert(Laborer), [rows[N // 2]])
