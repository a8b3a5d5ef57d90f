"""Congestion caps on the cadre's pages: referring a laborer, a posting at its cap shown with why (zh, en),
and the referral beyond the cap refused naming it."""

from __future__ import annotations

from sqlalchemy import func, select

from web.extensions import db
from web.models import Placement, PlacementStatus


def test_referrals_fill_the_cap_and_the_page_says_so(client, factory, login):
    opening = factory.opening(slots=1, title="手套包装")
    seeker, *others = [factory.laborer() for _ in range(4)]
    login(factory.user("cadre"))
    page = client.get(f"/cadre/laborers/{seeker.id}").get_data(as_text=True)
    assert 'name="refer"' in page and "推荐给用人单位" in page and "已到上限" not in page
    for laborer in others[:3]:
        made = client.post(
            f"/cadre/laborers/{laborer.id}/offer", data={"kind": "opening", "target_id": opening.id, "refer": "1"}
        )
        assert made.status_code == 302
    statuses = db.session.scalars(select(Placement.status)).all()
    assert statuses == [PlacementStatus.PROPOSED] * 3  # referrals hold no slot
    zh = client.get(f"/cadre/laborers/{seeker.id}").get_data(as_text=True)
    assert "该岗位的推荐已到上限（3 个），还没满的岗位排在前面" in zh
    assert 'name="refer"' not in zh  # no referral button on a posting at its cap
    en = client.get(f"/cadre/laborers/{seeker.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "this posting already has as many offers as allowed (3)" in en
    refused = client.post(
        f"/cadre/laborers/{seeker.id}/offer",
        data={"kind": "opening", "target_id": opening.id},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "its cap (3 per open slot, 1 open slots: at most 3)" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Placement.id))) == 3


def test_a_match_held_for_others_says_so_in_the_pages_language(app, client, factory, login):
    from tests.web.test_capacity_prices import _run, held_scene

    _, poor, other = held_scene(factory)
    _run(app, factory)
    login(factory.user("cadre"))
    zh = client.get(f"/cadre/laborers/{other.id}").get_data(as_text=True)
    assert "建议留给更合适的人：这个岗位的名额别人更需要。没有别的合适岗位时再推荐。" in zh
    en = client.get(f"/cadre/laborers/{other.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Better left to others: people who fit this post better need its places more." in en
    assert "建议留给更合适的人" not in client.get(f"/cadre/laborers/{poor[1].id}").get_data(as_text=True)
