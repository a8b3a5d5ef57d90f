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
    assert "运行中断" in page and f"/office/plans/{plan.id}/rerun" in page
    english = client.get(f"/office/plans/{plan.id}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "interrupted" in english and "Run again" in english
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
