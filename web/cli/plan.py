"""`jiuye plan ...`: run a matching plan from the command line, or serve plans queued in Redis."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup

from ..errors import DomainError, NotFoundError
from ..extensions import app_object
from ..jobs.plans import execute_plan, execution_mode, queue_name, recover, rerun, serve_with, start_plan
from ..jobs.tick import schedule_daily
from ..models import CHANNELS, Plan, PlanMode, PlanStatus, Region
from ..services.plans import county_codes
from ..unit_of_work import unit_of_work

plan = AppGroup("plan", help="Run matching plans.")

FIGURES = [
    ("laborers", "seeking laborers"),
    ("placed", "placed"),
    ("households_moved", "households moved out of without-work"),
    ("registered_poor_placed", "registered-poor placed"),
    ("mean_commute_km", "mean commute km"),
    ("p90_commute_km", "p90 commute km"),
    ("mean_score", "mean score"),
    ("objective", "objective"),
]


def print_report(plan_row: Plan) -> None:
    """The plan's figures beside the greedy baseline, one line each."""
    report, base = plan_row.report, plan_row.baseline_report
    if report is None or base is None:
        raise click.ClickException(f"plan {plan_row.id} has no report yet ({plan_row.status.value})")
    click.echo(f"{'':40} {plan_row.mode.value:>12} {'greedy':>12}")
    for key, label in FIGURES:
        click.echo(f"{label:40} {report[key]:>12} {base[key]:>12}")
    for kind in CHANNELS:
        mine, theirs = report["placed_by_kind"].get(kind, 0), base["placed_by_kind"].get(kind, 0)
        click.echo(f"{'  placed: ' + kind:40} {mine:>12} {theirs:>12}")


@plan.command("run")
@click.option("--region", "--county", "region_code", required=True, help="Region code, e.g. 141030 (Daning).")
@click.option("--mode", type=click.Choice([m.value for m in PlanMode]), default="optimal", show_default=True)
@click.option(
    "--per",
    type=click.Choice(["county"]),
    help="One plan per county of the region, queued for `jiuye plan worker` processes (with REDIS_URL), "
    "else run here one after another.",
)
def run(region_code: str, mode: str, per: str | None) -> None:
    """Run a plan for a region and print its report beside the greedy baseline."""
    if per == "county":
        run_per_county(region_code, mode)
        return
    with unit_of_work() as session:
        if session.get(Region, region_code) is None:
            raise click.BadParameter(f"unknown region {region_code}", param_hint="--region")
        row = Plan(region_code=region_code, mode=PlanMode(mode), status=PlanStatus.QUEUED)
        session.add(row)
    started = time.perf_counter()
    row = execute_plan(row.id)
    if row.status is PlanStatus.FAILED:
        raise click.ClickException(f"plan {row.id} failed: {row.error}")
    if row.status is not PlanStatus.DONE:  # another runner took it first
        raise click.ClickException(f"plan {row.id} is {row.status.value} on {row.worker}")
    click.echo(
        f"plan {row.id} ({mode}, region {region_code}) done in {time.perf_counter() - started:.2f} s; "
        f"{len(row.assignments)} proposed assignments. Review and confirm it on the office pages or the API."
    )
    print_report(row)


def run_per_county(region_code: str, mode: str) -> None:
    """Queue one plan per county of the region on the RQ workers, or, without Redis, run them here."""
    app = app_object()
    on_workers = bool(app.config.get("REDIS_URL")) and execution_mode(app) == "rq"
    with unit_of_work() as session:
        region = session.get(Region, region_code)
        if region is None:
            raise click.BadParameter(f"unknown region {region_code}", param_hint="--region")
        try:
            codes = county_codes(session, region)
        except DomainError as error:
            raise click.BadParameter(error.english(), param_hint="--region") from None
        rows = [Plan(region_code=code, mode=PlanMode(mode), status=PlanStatus.QUEUED) for code in codes]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
        if on_workers:
            for plan_id in ids:
                start_plan(app, plan_id, mode="rq")
    if on_workers:
        click.echo(
            f"{len(ids)} county plans ({mode}, region {region_code}) queued on {queue_name(app)}: "
            f"{ids[0]}–{ids[-1]}. Start `jiuye plan worker` processes to run them."
        )
        return
    failed = 0
    for plan_id in ids:
        row = execute_plan(plan_id)
        placed = row.report["placed"] if row.report else 0
        click.echo(f"plan {row.id} (county {row.region_code}): {row.status.value}, {placed} placed")
        failed += row.status is PlanStatus.FAILED
    if failed:
        raise click.ClickException(f"{failed} of {len(ids)} county plans failed")


@plan.command("rerun")
@click.argument("plan_id", type=int)
def rerun_command(plan_id: int) -> None:
    """Run a failed (or interrupted) plan again, here, and print its report."""
    try:
        row = rerun(plan_id)
    except NotFoundError as error:
        raise click.ClickException(error.english()) from None
    except DomainError as error:  # not a failed plan: say what it is instead
        raise click.ClickException(f"plan {plan_id}: {error.english()}") from None
    if row.status is PlanStatus.FAILED:
        raise click.ClickException(f"plan {plan_id} failed again: {row.error}")
    if row.status is not PlanStatus.DONE:  # another runner took it first
        raise click.ClickException(f"plan {plan_id} is {row.status.value} on {row.worker}")
    click.echo(
        f"plan {plan_id} ({row.mode.value}, region {row.region_code}) done; "
        f"{len(row.assignments)} proposed assignments."
    )
    print_report(row)


@plan.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queue is empty (tests, benchmarks, cron).")
def worker(burst: bool) -> None:
    """Serve plans queued in Redis (REDIS_URL, queue PLAN_QUEUE) until stopped; first recover the plans left
    behind; unless --burst, also run the daily clocks (`jiuye tick`) on RQ's scheduler. Start as many as
    there are cores to spare, on one machine or several sharing the database and Redis."""
    from redis import Redis
    from rq import Worker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set; without it plans run inside the request")
    app = app_object()
    interrupted, restarted = recover(app, mode="rq")
    if interrupted or restarted:
        click.echo(f"interrupted plans marked failed: {interrupted or 'none'}; queued again: {restarted or 'none'}")
    serve_with(app)  # jobs (and the work horses forked for them) use this app instead of building one each
    try:
        if not burst:  # the daily clocks ride on RQ's scheduler (web.jobs.tick)
            schedule_daily(app)
        Worker([queue_name(app)], connection=Redis.from_url(url)).work(burst=burst, with_scheduler=not burst)
    finally:
        serve_with(None)
