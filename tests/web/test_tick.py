"""The daily clocks (issue 13, parts 1, 6 and 8): offers lapse after OFFER_ANSWER_DAYS with the reason
"no answer in time", employers are reminded half-way, the people concerned hear of it in their inbox, the
tick is idempotent and all-or-nothing, texts go out through the configured sender after the commit."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import OFFERED_ON, freeze_day
from web import clock
from web.extensions import db
from web.jobs import tick as tick_job
from web.models import (
    NO_ANSWER_REASON,
    Base,
    Message,
    MessageKind,
    Placement,
    PlacementStatus,
    TextMessage,
    TickRun,
)
from web.services import offers, texts
from web.services import tick as tick_service
from web.services.convert import free_capacity, matcher_config

REDIS_URL = os.environ.get("JIUYE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _row_counts() -> dict[str, int]:
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_an_offer_is_answered_by_offer_answer_days_later(waiting_offer):
    placement = db.session.get(Placement, waiting_offer["placement_id"])
    assert placement.answer_by == OFFERED_ON + timedelta(days=7)
    assert placement.offered_at is not None


def test_an_offer_lapses_the_day_after_its_answer_day_and_frees_the_slot(app, waiting_offer):
    answer_by = OFFERED_ON + timedelta(days=7)
    assert tick_service.run(db.session, answer_by)["offers_lapsed"] == 0
    db.session.commit()
    assert db.session.get(Placement, waiting_offer["placement_id"]).status is PlacementStatus.OFFERED
    assert free_capacity(db.session, waiting_offer["opening"]) == 0

    counts = tick_service.run(db.session, answer_by + timedelta(days=1))
    db.session.commit()
    placement = db.session.get(Placement, waiting_offer["placement_id"])
    assert counts["offers_lapsed"] == 1
    assert placement.status is PlacementStatus.DECLINED
    assert placement.decline_reason == NO_ANSWER_REASON
    assert placement.events[-1].by_user_id is None and placement.events[-1].note == NO_ANSWER_REASON
    assert free_capacity(db.session, waiting_offer["opening"]) == 1
    told = {
        m.user_id for m in db.session.scalars(select(Message).where(Message.kind == MessageKind.OFFER_LAPSED.value))
    }
    assert told == {waiting_offer["cadre"].id, waiting_offer["office"].id, waiting_offer["employer_user"].id}
    # The laborer may be offered work again: the lapsed offer no longer counts as a live one.
    assert offers.laborer_refusals(db.session, [waiting_offer["laborer"].id], max_live_offers=1) == {}


def test_a_second_tick_the_same_day_changes_nothing(app, waiting_offer):
    day = OFFERED_ON + timedelta(days=8)
    first = tick_service.run(db.session, day)
    db.session.commit()
    before = _row_counts()
    second = tick_service.run(db.session, day)
    db.session.commit()
    after = _row_counts()
    assert first["offers_lapsed"] == 1
    assert all(count == 0 for count in second.values()), second
    # Only the record of the second run itself is new.
    assert {name: after[name] - before[name] for name in after if after[name] != before[name]} == {"tick_run": 1}


def test_employers_are_reminded_half_way_once(app, waiting_offer):
    quiet = tick_service.run(db.session, OFFERED_ON + timedelta(days=3))
    reminded = tick_service.run(db.session, OFFERED_ON + timedelta(days=4))
    again = tick_service.run(db.session, OFFERED_ON + timedelta(days=5))
    db.session.commit()
    assert (quiet["offer_reminders"], reminded["offer_reminders"], again["offer_reminders"]) == (0, 1, 0)
    (message,) = db.session.scalars(select(Message).where(Message.kind == MessageKind.OFFER_REMINDER.value))
    assert message.user_id == waiting_offer["employer_user"].id
    assert message.params["answer_by"] == (OFFERED_ON + timedelta(days=7)).isoformat()


def test_a_fault_in_the_middle_of_the_tick_leaves_nothing_applied(app, waiting_offer, monkeypatch):
    def broken(session, day):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(tick_service, "STEPS", (*tick_service.STEPS[:1], ("broken", broken)))
    before = _row_counts()
    with pytest.raises(RuntimeError):
        tick_job.tick_day(OFFERED_ON + timedelta(days=8))
    db.session.remove()
    assert _row_counts() == before
    assert db.session.get(Placement, waiting_offer["placement_id"]).status is PlacementStatus.OFFERED


def test_the_cli_ticks_a_given_day_and_sends_queued_texts(app, waiting_offer, runner, tmp_path):
    app.config["SMS_OUTBOX_PATH"] = str(tmp_path / "outbox.jsonl")
    laborer = waiting_offer["laborer"]
    assert texts.queue_text(db.session, laborer, "您好", kind="test", key="t1")
    assert not texts.queue_text(db.session, laborer, "您好", kind="test", key="t1")  # once per key
    db.session.commit()
    result = runner.invoke(args=["tick", "--day", (OFFERED_ON + timedelta(days=8)).isoformat()])
    assert result.exit_code == 0, result.output
    assert "offers_lapsed" in result.output and "texts_sent" in result.output
    lines = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8").splitlines()]
    # The queued text, then the lapse's own text to the laborer (written by the tick, sent after its commit).
    assert [(line["phone"], line["body"]) for line in lines] == [
        ("13800138000", "您好"),
        ("13800138000", offers.lapse_text(db.session.get(Placement, waiting_offer["placement_id"]))),
    ]
    db.session.remove()
    sent = db.session.scalars(select(TextMessage).order_by(TextMessage.id)).all()
    assert [(t.kind, t.backend) for t in sent] == [("test", "file"), ("offer_lapsed", "file")]
    assert all(t.sent_at is not None for t in sent)
    assert db.session.scalar(select(func.count()).select_from(TickRun)) == 1


class _FailingSender:
    name = "failing"

    def send(self, phone: str, body: str) -> None:
        raise ConnectionError("provider unreachable")


def test_a_failed_send_stays_pending_with_its_error(app, waiting_offer):
    texts.queue_text(db.session, waiting_offer["laborer"], "您好", kind="test")
    assert texts.deliver_pending(db.session, _FailingSender()) == (0, 1)
    (text,) = db.session.scalars(select(TextMessage))
    assert text.sent_at is None and text.error == "provider unreachable"


def test_a_provider_adapter_is_named_in_configuration(app):
    app.config["SMS_BACKEND"] = "tests.web.test_tick:_FailingSender"
    assert isinstance(texts.sender_from_config(), _FailingSender)
    app.config["SMS_BACKEND"] = "nonsense"
    with pytest.raises(ValueError, match="SMS_BACKEND"):
        texts.sender_from_config()


@pytest.mark.app_config(REDIS_URL=REDIS_URL, PLAN_QUEUE="jiuye-test-tick")
def test_workers_schedule_one_daily_tick_on_rqs_scheduler(app, live_redis):
    from rq.registry import ScheduledJobRegistry

    from web.jobs.plans import queue

    live_redis.delete(*live_redis.keys(tick_job.SCHEDULED_KEY + "*") or ["none"])
    jobs = queue(app)
    for job_id in ScheduledJobRegistry(queue=jobs).get_job_ids():
        jobs.fetch_job(job_id).delete()
    after = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai: the next 00:10 is the 3rd
    at = tick_job.schedule_daily(app, after)
    assert at is not None and clock.local(at).date() == date(2026, 3, 3)
    assert (clock.local(at).hour, clock.local(at).minute) == (0, 10)
    assert tick_job.schedule_daily(app, after) is None  # another worker: already scheduled
    registry = ScheduledJobRegistry(queue=jobs)
    scheduled = [jobs.fetch_job(job_id) for job_id in registry.get_job_ids()]
    assert [job.func_name for job in scheduled if job] == ["web.jobs.tick.daily_job"]
    for job in scheduled:
        if job:
            job.delete()
    live_redis.delete(*live_redis.keys(tick_job.SCHEDULED_KEY + "*") or ["none"])


def test_a_referral_waits_for_the_employer_and_lapses_like_an_offer(app, factory, monkeypatch):
    freeze_day(monkeypatch, OFFERED_ON)
    opening = factory.opening(slots=1)
    laborer = factory.laborer()
    cadre = factory.user("cadre")
    db.session.commit()
    referral = offers.make_offer(
        db.session, cadre, laborer.id, "opening", opening.id, matcher_config(app.config), refer=True
    )
    db.session.commit()
    assert referral.status is PlacementStatus.PROPOSED
    assert referral.answer_by == OFFERED_ON + timedelta(days=7)
    assert tick_service.run(db.session, OFFERED_ON + timedelta(days=8))["offers_lapsed"] == 1
    assert db.session.get(Placement, referral.id).status is PlacementStatus.DECLINED
