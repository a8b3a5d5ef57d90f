"""A list's total is counted once and kept until a data version following what it counts moves
(`versions.count_rows`): exact after any committed change, per caller and filter, and never kept for
tables no version follows nor over a transaction's own changes."""

from __future__ import annotations

from sqlalchemy import select

from tests.statements import statements
from web.extensions import db
from web.models import Laborer
from web.services import scope, versions

VILLAGE, OTHER = "141030100201", "141030100202"


def _pager_counts():
    """The pagers' COUNT statements (a count over the list's query) run while in the `with`."""
    return statements(lambda statement: statement.startswith("SELECT count(*) AS count_1 \nFROM (SELECT"))


def _total(client, headers, query=""):
    response = client.get(f"/api/v1/laborers{query}", headers=headers)
    assert response.status_code == 200
    return response.json["meta"]["total"]


def test_a_lists_total_is_counted_once_until_what_it_counts_changes(client, factory, api_token):
    office = factory.user("office", region_code="141030")
    elsewhere = factory.user("office", region_code="141030101")  # the same statement, other parameters
    cadre = factory.user("cadre", village_codes=[VILLAGE])
    for village in (VILLAGE, VILLAGE, OTHER):
        factory.laborer(factory.household(village))
    db.session.commit()
    office_headers, cadre_headers, elsewhere_headers = api_token(office), api_token(cadre), api_token(elsewhere)
    with _pager_counts() as counts:
        assert [_total(client, office_headers) for _ in range(3)] == [3, 3, 3]
        assert len(counts) == 1  # the next two pages knew the total
        assert _total(client, cadre_headers) == 2  # the caller's scope is part of what is kept
        assert _total(client, elsewhere_headers) == 0
        assert _total(client, office_headers, "?status=employed") == 0  # and so is the filter
        assert len(counts) == 4

        factory.laborer(factory.household(OTHER))  # another transaction, as another process would commit it
        db.session.commit()
        assert _total(client, office_headers) == 4 and _total(client, cadre_headers) == 2
        assert len(counts) == 6


def test_a_count_over_a_table_no_version_follows_is_counted_every_time(client, factory, api_token):
    office = factory.user("office", region_code="141030")
    factory.employer(region_code=VILLAGE)
    db.session.commit()
    headers = api_token(office)
    with _pager_counts() as counts:
        totals = [client.get("/api/v1/employers", headers=headers).json["meta"]["total"] for _ in range(2)]
    assert totals == [1, 1] and len(counts) == 2


def test_a_transactions_own_changes_are_counted_and_not_kept(factory):
    office = factory.user("office", region_code="141030")
    factory.laborer(factory.household(VILLAGE))
    db.session.commit()
    query = scope.scoped(Laborer, office)
    assert versions.count_rows(db.session(), query) == 1
    factory.laborer(factory.household(VILLAGE))  # flushed, not committed
    assert versions.count_rows(db.session(), query) == 2
    db.session.rollback()
    assert versions.count_rows(db.session(), query) == 1
    assert db.session.scalar(select(db.func.count()).select_from(Laborer)) == 1
