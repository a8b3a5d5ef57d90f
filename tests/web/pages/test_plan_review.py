"""The plan page's review (issue 14, part 7): filters, XLSX link, taking a proposal out and moving one,
the change log, and the words in both languages."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select

from web.extensions import db
from web.models import Plan, PlanAssignment, PlanChange

ANGU, BAI = "141030100201", "141030100202"


def _plan(client, factory, login):
    glove = factory.opening(slots=3, title="手套包装")
    sewing = factory.opening(slots=3, title="缝纫车间", job_type="sewing")
    angu = factory.laborer(factory.household(ANGU), name="王秀英")
    bai = factory.laborer(factory.household(BAI), name="李桂兰")
    login(factory.user("office"))
    assert client.post("/office/plans", data={"region_code": "141030", "mode": "optimal"}).status_code == 302
    plan = db.session.scalar(select(Plan))
    return plan, glove, sewing, angu, bai


def test_the_plan_page_filters_by_village_and_shows_the_review_forms(client, factory, login):
    plan, _glove, _sewing, angu, bai = _plan(client, factory, login)
    page = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "王秀英" in page and "李桂兰" in page
    assert "Take out of the plan" in page and "Move the proposal" in page and "No changes yet." in page
    assert f"/office/plans/{plan.id}/proposals.xlsx" in page
    only_bai = client.get(f"/office/plans/{plan.id}?village={BAI}").get_data(as_text=True)
    assert "李桂兰" in only_bai and "王秀英" not in only_bai
    assert "移出方案" in only_bai  # Chinese by default
    assert f"/office/plans/{plan.id}/proposals.xlsx?village={BAI}" in only_bai
    bad = client.get(f"/office/plans/{plan.id}?township=12", headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "9 digits" in bad.get_data(as_text=True)


def test_taking_out_and_moving_from_the_page_are_logged(client, factory, login):
    plan, glove, sewing, angu, bai = _plan(client, factory, login)
    rows = {a.laborer_id: a for a in db.session.scalars(select(PlanAssignment))}
    a = rows[angu.id]
    to = sewing if a.opening_id == glove.id else glove
    moved = client.post(
        f"/office/plans/{plan.id}/assignments/{a.id}/swap",
        data={"target": f"opening:{to.id}", "note": "她想做缝纫", "keep_village": ANGU},
    )
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/office/plans/{plan.id}?village={ANGU}")
    db.session.expire_all()
    assert db.session.get(PlanAssignment, a.id).opening_id == to.id
    bad = client.post(f"/office/plans/{plan.id}/assignments/{a.id}/swap", data={"target": "spaceship:1"})
    assert bad.status_code == 302
    removed = client.post(f"/office/plans/{plan.id}/assignments/{rows[bai.id].id}/remove", data={"note": "外出了"})
    assert removed.status_code == 302
    db.session.expire_all()
    assert [c.action.value for c in db.session.scalars(select(PlanChange).order_by(PlanChange.id))] == [
        "swapped",
        "removed",
    ]
    page = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "took 李桂兰 out" in page and "moved 王秀英 from" in page and "外出了" in page
    assert "recomputed after the changes made while reviewing (2 in all" in page
    xlsx = client.get(f"/office/plans/{plan.id}/proposals.xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["安古村 201"]  # 李桂兰 was taken out: her village has nothing left
    assert client.get(f"/office/plans/{plan.id}/proposals.xlsx?posting=opening:x").status_code == 422
