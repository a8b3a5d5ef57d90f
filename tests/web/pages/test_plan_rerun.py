"""The office's plan pages: an interrupted plan is shown as such, in the page's language, and a
failed plan runs again from its page (a POST with the page's CSRF token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import PASSWORD
from tests.web.test_plan_leases import _county, _plan, _status
from web.extensions import db
from web.models import PlanStatus


def test_the_office_pages_show_an_interrupted_plan_and_run_it_again(client, factory, login):
    _county(factory)
    login(factory.user("office"))
    plan = _plan(PlanStatus.RUNNING, worker="another-host:4242", lease_expires_at=datetime.now(UTC) - timedelta(1))
    listing = client.get("/office/plans").get_data(as_text=True)
    assert _status(plan.id) == (PlanStatus.FAILED, "interrupted")
    assert "status-failed" in listing
    page = client.get(f"/office/plans/{plan.id}").get_data(as_text=True)
    assert "运行中断（运行它的进程已停止），可以重新运行。" in page and f"/office/plans/{plan.id}/rerun" in page
    english = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Its run was interrupted (the process running it stopped)" in english and "Run again" in english
    again = client.post(f"/office/plans/{plan.id}/rerun", follow_redirects=True)
    assert f"方案 {plan.id} 已重新开始运行" in again.get_data(as_text=True)
    assert _status(plan.id) == (PlanStatus.DONE, None)
    refused = client.post(f"/office/plans/{plan.id}/rerun", follow_redirects=True)
    assert "该方案已完成；只有失败的方案才能重新运行" in refused.get_data(as_text=True)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_run_again_needs_the_pages_csrf_token(client, factory):
    _county(factory)
    factory.user("office", username="clerk")
    plan = _plan(PlanStatus.FAILED, error="MemoryError: injected")
    db.session.commit()

    def token(path: str) -> str:
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)

    client.post("/login", data={"username": "clerk", "password": PASSWORD, "csrf_token": token("/login")})
    forged = client.post(f"/office/plans/{plan.id}/rerun")
    assert forged.status_code == 400 and _status(plan.id)[0] is PlanStatus.FAILED
    client.post(f"/office/plans/{plan.id}/rerun", data={"csrf_token": token(f"/office/plans/{plan.id}")})
    assert _status(plan.id) == (PlanStatus.DONE, None)


def test_a_plan_stopped_by_an_unexpected_error_says_so_in_the_pages_language_and_runs_again(
    client, factory, login, api_token, monkeypatch
):
    _county(factory)
    office = factory.user("office")
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("min-cost flow failed with status 3")

    monkeypatch.setattr("web.jobs.plans.plan_service.solve_prepared", broken)
    headers = api_token(office)
    plan = client.post("/api/v1/plans", json={"county_code": "141030", "mode": "greedy"}, headers=headers).json
    # The API keeps the developers' text beside the code pages word.
    assert (plan["status"], plan["error"]) == ("failed", "RuntimeError: min-cost flow failed with status 3")
    assert plan["failure"] == {"code": "error"}
    login(office)
    page = client.get(f"/office/plans/{plan['id']}").get_data(as_text=True)
    assert "意外错误使它停止，详情已记入服务器日志。" in page
    assert "min-cost flow" not in page and "RuntimeError" not in page
    english = client.get(f"/office/plans/{plan['id']}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "An unexpected error stopped it; the details are in the server log." in english
    status = client.get(f"/office/plans/{plan['id']}/status").json
    assert status["error"] == "意外错误使它停止，详情已记入服务器日志。"
    monkeypatch.undo()
    client.post(f"/office/plans/{plan['id']}/rerun")
    again = client.get(f"/api/v1/plans/{plan['id']}", headers=headers).json
    assert (again["status"], again["error"], again["failure"]) == ("done", None, None)
