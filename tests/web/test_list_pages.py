"""A list's pages are the same whether its rows are read whole through the filters and then paged, or
met walking the id order (`registry.page_by_id` chooses by how many rows the region holds)."""

from __future__ import annotations

import pytest

from web.extensions import db
from web.models import Laborer
from web.services import registry

VILLAGES = ("141030100201", "141030100202", "141030101201")


@pytest.fixture(params=["whole", "walk"])
def listing(request, factory, monkeypatch):
    """A township office and eleven laborers of three villages (two of them its own), alternately seeking
    and employed, paged by reading the rows whole or by walking the id order."""
    office = factory.user("office", region_code="141030100")
    made = [
        factory.laborer(factory.household(VILLAGES[i % 3]), status=("seeking", "employed")[i % 2]) for i in range(11)
    ]
    db.session.commit()
    if request.param == "walk":
        monkeypatch.setattr(registry, "READ_WHOLE_MAX", -1)
        monkeypatch.setattr(registry, "SPARSE", 10**9)
    return office, made


def test_pages_are_the_callers_rows_in_id_order_either_way(listing):
    office, made = listing
    mine = sorted(p.id for i, p in enumerate(made) if i % 3 != 2)
    seeking = sorted(p.id for i, p in enumerate(made) if i % 3 != 2 and i % 2 == 0)

    def pages(**kw):
        found, totals = [], set()
        for page in (1, 2, 3, 4):
            rows, total = registry.list_records(db.session, Laborer, office, page=page, per_page=2, **kw)
            found.append([row.id for row in rows])
            totals.add(total)
        return found, totals

    assert pages() == ([mine[0:2], mine[2:4], mine[4:6], mine[6:8]], {len(mine)})
    assert pages(filters={"status": "seeking"}) == (
        [seeking[0:2], seeking[2:4], seeking[4:6], seeking[6:8]],
        {len(seeking)},
    )
    village = sorted(p.id for i, p in enumerate(made) if i % 3 == 1)
    assert pages(region=VILLAGES[1])[0][0] == village[0:2]


def test_the_region_filter_is_a_range_on_the_code_and_a_non_code_holds_nothing(factory):
    from sqlalchemy import select

    from web.models import Household
    from web.services import scope

    factory.laborer(factory.household(VILLAGES[0]))
    db.session.commit()
    for model in (Laborer, Household):
        sql = str(select(model).where(scope.region_filter(model, "141030")).compile(db.engine)).upper()
        assert ">=" in sql and "LIKE" not in sql  # an index on the code serves it
        assert len(db.session.scalars(select(model).where(scope.region_filter(model, "141030"))).all()) == 1
        assert db.session.scalars(select(model).where(scope.region_filter(model, "14x"))).all() == []


def test_a_newest_first_page_keeps_the_querys_filters_and_loader_options(listing):
    from sqlalchemy import inspect
    from sqlalchemy.orm import selectinload

    from web.models import Household
    from web.services import scope

    office, made = listing
    place = scope.scoped(Laborer, office)
    query = place.where(Laborer.status == "seeking").options(selectinload(Laborer.household))
    expected = sorted((p.id for i, p in enumerate(made) if i % 3 != 2 and i % 2 == 0), reverse=True)
    db.session.expire_all()
    rows, total = registry.page_by_id(db.session, Laborer, query, place, page=1, per_page=2, newest_first=True)
    assert [row.id for row in rows] == expected[:2] and total == len(expected)
    assert all("household" not in inspect(row).unloaded for row in rows)  # loaded with the page
    assert all(isinstance(row.household, Household) for row in rows)
    rows, _ = registry.page_by_id(db.session, Laborer, query, place, page=9, per_page=2, newest_first=True)
    assert rows == []
