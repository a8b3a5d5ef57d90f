"""Figures per region and day (web.services.stats) and GET /api/v1/stats."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from seed.shanxi2020 import REPORT_ON, seed_shanxi_2020
from web.extensions import db
from web.models import Placement
from web.services.stats import (
    ADDITIVE,
    RegionStats,
    children_stats,
    month_ends,
    overview,
    region_stats,
    year_before,
)

DAY = date(2020, 6, 30)
ANGU, BAICUN, QUE = "141030100201", "141030100202", "141030101201"


def place(laborer, *, started_on, ended_on=None, status="working", **target):
    row = Placement(
        laborer_id=laborer.id,
        household_id=laborer.household_id,
        status=status,
        started_on=started_on,
        ended_on=ended_on,
        **target,
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def small(factory):
    """A workshop with 5 poor workers (recognised), one with 1, an enterprise, a post, a batch."""
    workshop = factory.employer(kind="workshop", region_code=ANGU)
    small_shop = factory.employer(kind="workshop", region_code=QUE)
    idle = factory.employer(kind="workshop", region_code=QUE, is_marked_resumed=True)
    enterprise = factory.employer(kind="enterprise", region_code=BAICUN)
    opening = factory.opening(workshop, slots=10)
    for _ in range(5):
        place(factory.laborer(status="employed"), opening_id=opening.id, started_on=date(2019, 1, 1))
    rich = factory.household(BAICUN, poverty_status="non_poor")
    place(factory.laborer(rich, status="employed"), opening_id=opening.id, started_on=date(2020, 3, 1))
    place(
        factory.laborer(factory.household(QUE), status="employed"),
        opening_id=factory.opening(small_shop).id,
        started_on=date(2019, 1, 1),
    )
    # Worked at the enterprise a year ago, left in January: at work then, not now.
    left = factory.laborer(factory.household(BAICUN))
    place(
        left,
        opening_id=factory.opening(enterprise).id,
        started_on=date(2018, 5, 1),
        ended_on=date(2020, 1, 15),
        status="ended",
    )
    post = factory.welfare_post(region_code=ANGU)
    factory.welfare_post(region_code=QUE)  # vacant
    place(
        factory.laborer(factory.household(ANGU)),
        welfare_post_id=post.id,
        started_on=date(2020, 4, 1),
    )
    batch = factory.batch(employer=enterprise)
    place(factory.laborer(factory.household(QUE)), batch_id=batch.id, started_on=date(2020, 3, 20))
    # Not at work: offered only, started in the future, and a household with nobody working.
    place(
        factory.laborer(factory.household(QUE)),
        opening_id=opening.id,
        started_on=None,
        status="offered",
    )
    place(factory.laborer(factory.household(QUE)), opening_id=opening.id, started_on=date(2020, 7, 1))
    factory.laborer(factory.household(ANGU, poverty_status="monitored"))
    db.session.commit()
    return {"workshop": workshop, "idle": idle, "enterprise": enterprise}


def test_region_figures_follow_the_definitions(small):
    stats = region_stats(db.session, "14", DAY)
    assert (stats.workshops, stats.workshops_resumed, stats.workshops_recognised) == (3, 3, 1)
    assert (stats.workshop_workers, stats.workshop_poor_workers) == (7, 6)
    # The enterprise's batch passenger works for it; its former worker does not any more.
    assert (stats.enterprises, stats.enterprises_resumed) == (1, 1)
    assert (stats.enterprise_workers, stats.enterprise_poor_workers) == (1, 1)
    assert stats.laborers_at_work == 9
    assert (stats.at_work_opening, stats.at_work_batch, stats.at_work_welfare_post) == (7, 1, 1)
    assert stats.poor_at_work == 8
    assert stats.poor_at_work_year_before == 7  # six at the workshops, one at the enterprise
    assert str(stats.poor_at_work_change_pct) == "14.3"
    assert (stats.welfare_posts, stats.welfare_posts_filled) == (2, 1)
    # Without work: the one who left, the offered one, the future starter, the monitored one.
    assert stats.households_without_work == 4
    assert stats.poor_households == 12


def test_a_year_before_sees_the_placements_of_then(small):
    then = region_stats(db.session, "14", year_before(DAY))
    assert then.poor_at_work == 7
    assert then.enterprise_workers == 1 and then.workshop_workers == 6


def test_recognition_threshold_is_configuration(small):
    assert region_stats(db.session, "14", DAY, min_poor=1).workshops_recognised == 2
    assert region_stats(db.session, "14", DAY, min_poor=6).workshops_recognised == 0


def _assert_adds_up(parent: RegionStats, children: list[RegionStats]) -> None:
    for name in ADDITIVE:
        assert sum(getattr(c, name) for c in children) == getattr(parent, name), name


def test_children_add_up_to_their_parent(small):
    for code in ("14", "1410", "141030", "141030100"):
        _assert_adds_up(region_stats(db.session, code, DAY), children_stats(db.session, code, DAY))
    assert children_stats(db.session, ANGU, DAY) == []
    assert [r.region_code for r in children_stats(db.session, "141030", DAY)] == [
        "141030100",
        "141030101",
    ]


def test_time_line_ends_at_the_headline_figure(small):
    months = month_ends(DAY, 12)
    assert months[-1] == DAY and months[0] == date(2019, 7, 31) and len(months) == 12
    line = overview(db.session, "14", months[-1], months)[2]
    assert line[-1] == (DAY, region_stats(db.session, "14", DAY).poor_at_work)
    assert [n for _, n in line][:6] == [7] * 6  # nobody started or left until January


def test_unknown_region_is_not_found(small):
    from web.errors import NotFoundError

    with pytest.raises(NotFoundError):
        region_stats(db.session, "99", DAY)
    with pytest.raises(NotFoundError):
        region_stats(db.session, "14' OR 1=1", DAY)


@pytest.fixture
def scenario(app):
    seed_shanxi_2020(db.session, scale=0.01, random_seed=11)
    db.session.commit()


def test_scenario_drill_down_adds_up_at_every_level(scenario):
    code = "14"
    while True:
        parent = region_stats(db.session, code, REPORT_ON)
        children = children_stats(db.session, code, REPORT_ON)
        if not children:
            break
        _assert_adds_up(parent, children)
        code = max(children, key=lambda c: c.poor_at_work).region_code
    assert len(code) == 12


def test_scenario_time_line_matches_the_headline(scenario):
    line = overview(db.session, "14", REPORT_ON, month_ends(REPORT_ON, 18))[2]
    assert line[-1][1] == round(873_800 * 0.01)
    assert (
        line[5][0] == date(2019, 6, 30) and line[5][1] == region_stats(db.session, "14", date(2019, 6, 30)).poor_at_work
    )


# --- GET /api/v1/stats ---------------------------------------------------------------------------


def test_api_gives_an_office_its_region(client, api_token, factory, small):
    office = factory.user("office", region_code="141030")
    db.session.commit()
    response = client.get("/api/v1/stats?on=2020-06-30", headers=api_token(office))
    assert response.status_code == 200, response.json
    assert response.json["region_code"] == "141030"
    assert response.json["poor_at_work"] == 8
    assert response.json["poor_at_work_change_pct"] == 14.3
    town = client.get("/api/v1/stats?region=141030101&on=2020-06-30", headers=api_token(office))
    assert town.status_code == 200 and town.json["region_name"] == "曲峨镇"


def test_api_hides_regions_outside_the_scope(client, api_token, factory, small):
    office = factory.user("office", region_code="141030")
    db.session.commit()
    headers = api_token(office)
    assert client.get("/api/v1/stats?region=14", headers=headers).status_code == 404
    assert client.get("/api/v1/stats?region=1401", headers=headers).status_code == 404
    assert client.get("/api/v1/stats?region=abc", headers=headers).status_code == 422
    assert client.get("/api/v1/stats?on=2020-13-01", headers=headers).status_code == 422


def test_api_gives_a_cadre_their_villages_only(client, api_token, factory, small):
    cadre = factory.user("cadre", village_codes=[ANGU])
    db.session.commit()
    headers = api_token(cadre)
    own = client.get(f"/api/v1/stats?region={ANGU}&on=2020-06-30", headers=headers)
    assert own.status_code == 200 and own.json["welfare_posts_filled"] == 1
    assert client.get("/api/v1/stats?on=2020-06-30", headers=headers).json["region_code"] == ANGU
    assert client.get(f"/api/v1/stats?region={BAICUN}", headers=headers).status_code == 404
    assert client.get("/api/v1/stats?region=141030", headers=headers).status_code == 404


def test_api_refuses_employers_and_strangers(client, api_token, factory, small):
    employer = factory.user("employer", employer_id=small["workshop"].id)
    db.session.commit()
    assert client.get("/api/v1/stats", headers=api_token(employer)).status_code == 403
    assert client.get("/api/v1/stats").status_code == 401


def test_overview_is_region_children_and_time_line_in_one(small):

    months = month_ends(DAY, 12)
    for code in ("14", "141030", ANGU):
        total, children, line = overview(db.session, code, DAY, months)
        assert total == region_stats(db.session, code, DAY)
        assert children == children_stats(db.session, code, DAY)
        assert line == [(day, region_stats(db.session, code, day).poor_at_work) for day in months]


def test_the_landing_counts_are_kept_until_a_record_they_count_changes(client, factory, monkeypatch):
    from sqlalchemy import event

    from web.services import stats

    monkeypatch.setattr(stats, "_counted", {})
    laborer, opening = factory.laborer(), factory.opening()
    db.session.add(Placement(laborer_id=laborer.id, household_id=laborer.household_id, opening_id=opening.id))
    db.session.commit()  # every version has moved: what is counted can be kept
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, …)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        first = client.get("/").get_data(as_text=True)
        counted = len(statements)
        again = client.get("/").get_data(as_text=True)
        kept = len(statements) - counted
        factory.laborer(factory.household("141030100202"))
        factory.employer(name="新的扶贫车间")  # no data version follows employers: their count does
        db.session.commit()
        moved = stats.registered_counts(db.session())
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert first == again and counted >= 1 + len(stats.REGISTERED) and kept == 1  # the versions' one statement
    before = {name: db.session.scalar(select(func.count()).select_from(m)) for name, m in stats.REGISTERED.items()}
    assert moved == before and moved["laborers"] == 2 and moved["households"] == 2
    assert moved["employers"] == stats.registered_counts(db.session())["employers"] >= 2
