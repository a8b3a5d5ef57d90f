"""The deployment's day (web.clock): pages and records use the date of JIUYE_TIMEZONE, not UTC's.

At 23:30 UTC it is already 07:30 the next morning in Shanxi: a cadre recording that a laborer
started work then records today's Chinese date, and the forms offer it as today.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfoNotFoundError

import pytest

from tests.conftest import PASSWORD, _test_config
from web import clock, create_app
from web.extensions import db
from web.models import Placement, PlacementEvent
from web.services import offers

#: 23:30 UTC on 1 June: 07:30 on 2 June in Asia/Shanghai.
LATE_UTC = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
UTC_DAY, SHANGHAI_DAY = date(2026, 6, 1), date(2026, 6, 2)


@pytest.fixture
def late_evening_utc(monkeypatch):
    """Freeze the one clock (`web.clock.now`) at LATE_UTC, seen in the deployment's zone."""
    monkeypatch.setattr(clock, "now", lambda: clock.local(LATE_UTC))


def test_today_is_the_day_in_the_deployment_time_zone(app, late_evening_utc):
    assert app.config["TIMEZONE"] == "Asia/Shanghai" == app.config["BABEL_DEFAULT_TIMEZONE"]
    assert clock.today() == SHANGHAI_DAY
    assert clock.now().hour == 7


def test_jiuye_timezone_chooses_the_zone(monkeypatch, database_url, late_evening_utc):
    monkeypatch.setenv("JIUYE_TIMEZONE", "UTC")
    utc_app = create_app(_test_config(database_url))
    assert utc_app.config["TIMEZONE"] == "UTC" == utc_app.config["BABEL_DEFAULT_TIMEZONE"]
    with utc_app.app_context():
        assert clock.today() == UTC_DAY
    # Outside any app (a seed script), the environment decides too.
    assert clock.today() == UTC_DAY
    monkeypatch.setenv("JIUYE_TIMEZONE", "Asia/Shanghai")
    assert clock.today() == SHANGHAI_DAY


def test_an_unknown_time_zone_stops_the_start(database_url):
    with pytest.raises(ZoneInfoNotFoundError):
        create_app({**_test_config(database_url), "TIMEZONE": "Mars/Olympus_Mons"})


def test_a_placement_started_at_2330_utc_starts_on_the_chinese_day(app, factory, late_evening_utc):
    office = factory.user("office")
    laborer = factory.laborer()
    placement = Placement(
        laborer_id=laborer.id, household_id=laborer.household_id, status="accepted", opening_id=factory.opening().id
    )
    placement.events.append(PlacementEvent(from_status=None, to_status="accepted"))
    db.session.add(placement)
    db.session.flush()
    offers.transition(db.session, office, placement.id, "working")
    assert placement.started_on == SHANGHAI_DAY
    offers.transition(db.session, office, placement.id, "ended", note="回家照顾老人")
    assert placement.ended_on == SHANGHAI_DAY


def test_forms_offer_the_chinese_day_as_today(app, client, factory, late_evening_utc):
    office = factory.user("office")
    db.session.commit()
    assert client.post("/login", data={"username": office.username, "password": PASSWORD}).status_code == 302
    page = client.get("/office/welfare-posts/new").get_data(as_text=True)
    assert f'value="{SHANGHAI_DAY.isoformat()}"' in page
    assert UTC_DAY.isoformat() not in page
