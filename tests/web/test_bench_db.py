"""`jiuye bench --db` measures the real path on the configured database and leaves it as it was."""

from __future__ import annotations

from sqlalchemy import func, select

from web.extensions import db
from web.models import Plan, PlanAssignment


def test_bench_db_times_plan_matches_and_candidates_and_removes_its_plan(app, factory, runner):
    factory.opening(slots=2)
    factory.welfare_post()
    for _ in range(4):
        factory.laborer()
    db.session.commit()
    result = runner.invoke(args=["bench", "--db", "--region", "141030", "--samples", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    plan_line = next(line for line in lines if "| plan (optimal) |" in line)
    assert "status done" in plan_line and "placed 3" in plan_line and "peak_rss_mib" in plan_line
    assert any("| matches |" in line and "samples 3" in line for line in lines)
    assert any("| candidates |" in line and "p99_ms" in line for line in lines)
    assert db.session.scalar(select(func.count()).select_from(Plan)) == 0
    assert db.session.scalar(select(func.count()).select_from(PlanAssignment)) == 0
