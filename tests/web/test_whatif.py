"""What-if on a plan: hypothetical places change the figures, and nothing is written but the audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from tests.conftest import DANING
from web.errors import ValidationError
from web.extensions import db
from web.models import AuditEvent, Base
from web.services import plans, whatif
from web.services.convert import matcher_config


def _counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


@pytest.fixture
def plan(app, factory):
    """A county plan with more seekers than slots: one opening of 1 slot, four seekers in 安古村 and 曲峨村."""
    factory.opening(slots=1)
    for village in ("141030100201", "141030100201", "141030101201", "141030101201"):
        factory.laborer(factory.household(village), birth_on=date(1975, 6, 1))
    user = factory.user("office")
    row = plans.create_plan(db.session, user, "141030", "optimal")
    plans.run_plan(db.session, row, matcher_config(app.config))
    db.session.commit()
    return row, user


def test_a_workshop_and_welfare_posts_that_do_not_exist_change_the_figures_but_no_record(app, plan):
    row, user = plan
    before = _counts()
    changes = whatif.Changes(
        workshops=(whatif.Added("141030101201", 2),),  # 曲峨村, where nobody is placed today
        welfare_posts=(whatif.Added("141030100", 1),),
    )
    sim = whatif.simulate(db.session, user, row.id, changes, matcher_config(app.config), max_laborers=1000)
    db.session.commit()
    after = _counts()
    assert after.pop("audit_event") == before.pop("audit_event") + 1
    assert after == before  # every other table as it was
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.action == "plan_whatif" and event.entity_id == str(row.id)
    assert event.detail["workshops"] == [{"region_code": "141030101201", "count": 2}]
    assert sim.current.report["placed"] == 1 == row.report["placed"]
    # Two workshop slots in 曲峨村 place both its seekers; the post goes to a household still without work.
    assert sim.what_if.report["placed"] == 4
    assert sim.what_if.report["placed_by_kind"] == {"opening": 3, "batch": 0, "welfare_post": 1}
    qu_e = next(g for g in sim.what_if.fairness.dimensions["village"] if g.group == "141030101201")
    assert qu_e.placed == 2 and sim.current.fairness.dimensions["village"][-1].placed == 0
    assert sim.added == {"opening": 2, "batch": 0, "welfare_post": 1}


def test_a_longer_commute_limit_reaches_the_far_village(app, plan, factory):
    row, user = plan
    lat, lon = DANING
    factory.opening(slots=5, lat=lat - 0.15, lon=lon - 0.15)  # 23 km from 安古村, 32 km from 曲峨村
    db.session.commit()
    config = matcher_config(app.config)
    sim = whatif.simulate(db.session, user, row.id, whatif.Changes(commute_extra_km=25.0), config, max_laborers=1000)
    assert sim.current.report["placed"] == 1
    assert sim.what_if.report["placed"] == 4 and sim.what_if.report["mean_commute_km"] > 10


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        (whatif.Changes(), "changes"),
        (whatif.Changes(workshops=(whatif.Added("141030100", 3),)), "workshops"),  # a township, not a village
        (whatif.Changes(welfare_posts=(whatif.Added("141030100201", 1),)), "welfare_posts"),  # a village
        (whatif.Changes(batches=(whatif.Added("141081100201", 9),)), "batches"),  # outside the plan's region
    ],
)
def test_bad_changes_are_refused_naming_the_part(app, plan, changes, field):
    row, user = plan
    before = _counts()
    with pytest.raises(ValidationError) as refused:
        whatif.simulate(db.session, user, row.id, changes, matcher_config(app.config), max_laborers=1000)
    assert field in refused.value.fields
    db.session.rollback()
    assert _counts() == before


def test_a_region_too_big_for_a_request_is_refused(app, plan):
    row, user = plan
    with pytest.raises(ValidationError) as refused:
        whatif.simulate(
            db.session, user, row.id, whatif.Changes(commute_extra_km=1.0), matcher_config(app.config), max_laborers=3
        )
    assert "plan" in refused.value.fields
