"""`jiuye check data` (issue 11, part 1): saved rows that break today's registration rules, read only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from web import clock
from web.extensions import db
from web.models import Laborer


def years_ago(years: int) -> date:
    today = clock.today()
    return date(today.year - years, today.month, 1)


def test_check_data_reports_each_bad_row_field_and_problem(app, runner, factory):
    good = factory.laborer()
    child = factory.laborer(birth_on=years_ago(11))
    elder = factory.laborer(birth_on=years_ago(86))
    confirmed = factory.laborer(birth_on=years_ago(86), over_age_confirmed=True)
    # A number whose code ended in 2000, for someone born in 2005 (saved before the rule).
    wrong_code = factory.laborer(id_number="142633200503080022", birth_on=date(2005, 3, 8))
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Laborer))

    result = runner.invoke(args=["check", "data", "--lang", "en"])

    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "row\tfield\tproblem"
    assert (
        f"laborer {child.id}\tid_number\tthe person is 11, under the working age of 16, and cannot be registered"
        in lines
    )
    assert (
        f"laborer {elder.id}\tover_age_confirmed\tthe person is 86, older than 75: "
        "confirm that they still want and are able to work" in lines
    )
    assert any(line.startswith(f"laborer {wrong_code.id}\tid_number\t") and "region code" in line for line in lines)
    assert not any(line.startswith((f"laborer {good.id}\t", f"laborer {confirmed.id}\t")) for line in lines)
    assert "problem(s) found" in result.stderr
    # Read only: nothing changed.
    assert db.session.scalar(select(func.count()).select_from(Laborer)) == before
    zh = runner.invoke(args=["check", "data"])
    assert f"laborer {child.id}\tid_number\t此人 11 岁，未满劳动年龄 16 岁，不能登记" in zh.stdout.splitlines()


def test_check_data_is_quiet_on_a_clean_database(runner, factory):
    factory.laborer()
    db.session.commit()
    result = runner.invoke(args=["check", "data"])
    assert result.exit_code == 0 and result.stdout.splitlines() == ["row\tfield\tproblem"]
