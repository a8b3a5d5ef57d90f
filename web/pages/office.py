"""The county / city office's pages: matching plans, welfare posts for households without work,
workshop recognition, placements of its region, and the audit trail of its users."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import selectinload

from .. import clock
from ..errors import DomainError, ValidationError
from ..extensions import app_object, db
from ..jobs import plans as plan_runs
from ..labels import AUDIT_ACTIONS, action_label, audit_details, entity_label, label, quota_sentence, translated
from ..models import (
    CHANNELS,
    CODE_LENGTH,
    UNFINISHED_PLAN_STATUSES,
    AuditEvent,
    Employer,
    EmployerKind,
    Household,
    Plan,
    PlanAssignment,
    Region,
    RegionLevel,
    WelfarePost,
)
from ..services import convert, post_requests, ranking, registry, scope, watch, whatif
from ..services import fairness as fairness_service
from ..services import plans as plan_service
from ..services.accounts import AUDIT_MAX_IDS, audit_events
from ..services.regions import in_region
from ..services.stats import LEVEL_LENGTHS, employer_figures, households_without_work_by, poor_household_without_work
from ..validation import parse_day
from . import fairness as fairness_pages
from .cards import match_cards
from .common import (
    audit_list,
    form_page,
    offer_refusal,
    page_number,
    paginate,
    remote_addr,
    role_blueprint,
    save_from_form,
    show_errors,
    try_offer,
)
from .forms import ConfirmForm, OfferForm, PlanForm, RerunForm, WelfarePostForm, WhatIfForm, options
from .learning import register_learning_views
from .placements import register_placement_views
from .plan_review import register_review_views, review_context
from .post_requests import register_post_request_views
from .transport import register_handover_views, register_subsidy_views
from .watch import register_watch_views
from .welfare import register_attendance_views, register_office_views

bp = role_blueprint("office", "office_pages")
register_placement_views(bp)
register_review_views(bp)
register_attendance_views(bp)
register_office_views(bp)
register_post_request_views(bp)
register_handover_views(bp)
register_subsidy_views(bp)
register_watch_views(bp)
register_learning_views(bp)

#: The figures of a plan's report shown beside the greedy baseline; True = more is better.
REPORT_ROWS = (
    ("placed", True),
    ("poor_households_moved", True),
    ("households_moved", True),
    ("registered_poor_placed", True),
    ("mean_commute_km", False),
    ("p90_commute_km", False),
)


def _poor_without_work() -> ColumnElement[bool]:
    """Where-clause on Household: the office's poor households where nobody has work today."""
    return and_(
        scope.visible(Household, current_user),
        poor_household_without_work(clock.today()),
    )


@bp.get("/")
def home():
    """The office's start: recent plans and what is waiting."""
    plan_runs.reap_interrupted(db.session())
    recent = db.session.scalars(scope.scoped(Plan, current_user).order_by(Plan.id.desc()).limit(5)).all()
    without = db.session.scalar(select(func.count(Household.id)).where(_poor_without_work()))
    region = db.session.get(Region, current_user.region_code)
    requests = post_requests.figures(db.session(), current_user.region_code or "", clock.today())
    return render_template("office/home.html", plans=recent, without=without, region=region, requests=requests)


# -- plans ------------------------------------------------------------------------------------------


def _plan_regions(form: PlanForm) -> None:
    rows = db.session.scalars(
        select(Region)
        .where(
            scope.in_scope(Region.code, current_user),
            Region.level.in_([RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY]),
        )
        .order_by(Region.code)
    ).all()
    form.region_code.choices = options([(r.code, f"{r.name} ({r.code})") for r in rows])


@bp.route("/plans", methods=["GET", "POST"])
def plans():
    """Run a plan for a county or city in a chosen mode; the list of earlier plans."""
    form = PlanForm()
    _plan_regions(form)
    if form.validate_on_submit() and request.form.get("per") == "county":
        # One action queues a plan for every county of the region; as many runners as there are take them.
        rows = save_from_form(
            form,
            lambda: plan_service.create_county_plans(
                db.session(), current_user, form.region_code.data, form.mode.data, remote_addr=remote_addr()
            ),
            aliases={"region": "region_code"},
        )
        if rows is not None:
            app = app_object()
            for row in rows:
                plan_runs.start_plan(app, row.id)
            flash(_("%(count)s county plans started (%(mode)s).", count=len(rows), mode=label(rows[0].mode)), "success")
            return redirect(url_for("office.plans"))
    elif form.validate_on_submit():
        plan = save_from_form(
            form,
            lambda: plan_service.create_plan(
                db.session(),
                current_user,
                form.region_code.data,
                form.mode.data,
                quotas=form.quotas_for_service(),
                remote_addr=remote_addr(),
            ),
            aliases={"region": "region_code"},
        )
        if plan is not None:
            plan = plan_runs.start_plan(app_object(), plan.id)
            flash(_("Plan %(n)s started (%(mode)s).", n=plan.id, mode=label(plan.mode)), "success")
            return redirect(url_for("office.plan", plan_id=plan.id))
    plan_runs.reap_interrupted(db.session())
    page = paginate(scope.scoped(Plan, current_user).options(selectinload(Plan.region)).order_by(Plan.id.desc()))
    return form_page("office/plans.html", form, page=page)


@bp.get("/plans/<int:plan_id>")
def plan(plan_id: int):
    """A plan's status, its report beside the greedy baseline, and its proposed assignments."""
    plan_runs.reap_interrupted(db.session())
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    return render_template(
        "office/plan.html",
        plan=row,
        channels=list(CHANNELS),
        report_rows=REPORT_ROWS,
        is_running=row.status in UNFINISHED_PLAN_STATUSES,
        error=translated(plan_service.failure_words(row.failure)),
        quota_sentences=[quota_sentence(q) for q in row.quotas or []],
        rerun_form=RerunForm(),
        **review_context(row),
        **_fairness_of(row),
    )


def _fairness_of(row: Plan) -> dict:
    """The plan's fairness breakdown (with retention so far) and what the macro needs to show it."""
    mine, baseline = fairness_service.plan_fairness(db.session(), row)
    return {"fairness": mine, "baseline_fairness": baseline, **fairness_pages.context(mine, baseline)}


@bp.get("/plans/<int:plan_id>/report.xlsx")
def plan_xlsx(plan_id: int):
    """The plan's report beside greedy and the fairness breakdowns of both, as an XLSX file (no personal data)."""
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    mine, baseline = fairness_service.plan_fairness(db.session(), row)
    return Response(
        fairness_pages.plan_workbook(row, mine, baseline),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=plan-{row.id}.xlsx"},
    )


def _whatif_places(form: WhatIfForm, row: Plan) -> None:
    """The villages and townships of the plan's region as the what-if form's choices."""
    regions = db.session.execute(
        select(Region.code, Region.name, Region.level)
        .where(
            Region.level.in_([RegionLevel.VILLAGE, RegionLevel.TOWNSHIP]),
            scope.in_scope(Region.code, current_user),
            in_region(Region.code, row.region_code),
        )
        .order_by(Region.code)
    ).all()
    blank = [("", "—")]
    villages = [(r.code, f"{r.name} ({r.code})") for r in regions if r.level is RegionLevel.VILLAGE]
    townships = [(r.code, f"{r.name} ({r.code})") for r in regions if r.level is RegionLevel.TOWNSHIP]
    form.workshop_village.choices = options(blank + villages)
    form.batch_pickup.choices = options(blank + townships + villages)
    form.posts_township.choices = options(blank + townships)


def _changes(form: WhatIfForm) -> whatif.Changes:
    def one(place: str, count: str) -> tuple[whatif.Added, ...]:
        return (whatif.Added(form[place].data, form[count].data),) if form[place].data else ()

    return whatif.Changes(
        workshops=one("workshop_village", "workshop_slots"),
        batches=one("batch_pickup", "batch_seats"),
        welfare_posts=one("posts_township", "posts_count"),
        commute_extra_km=float(form.commute_extra_km.data or 0),
    )


#: The form field that shows a what-if service error about each part.
WHATIF_FIELDS = {
    "workshops": "workshop_village",
    "batches": "batch_pickup",
    "welfare_posts": "posts_township",
    "changes": "workshop_village",
    "plan": "commute_extra_km",
}


@bp.route("/plans/<int:plan_id>/what-if", methods=["GET", "POST"])
def plan_whatif(plan_id: int):
    """Try things that are not real yet on a plan's region; nothing is written but the audit of the try."""
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    form = WhatIfForm()
    _whatif_places(form, row)
    simulation = None
    if form.validate_on_submit():
        simulation = save_from_form(
            form,
            lambda: whatif.simulate(
                db.session(),
                current_user,
                row.id,
                _changes(form),
                convert.matcher_config(current_app.config),
                max_laborers=current_app.config["WHATIF_MAX_LABORERS"],
                remote_addr=remote_addr(),
            ),
            aliases=WHATIF_FIELDS,
        )
    breakdowns = (simulation.current.fairness, simulation.what_if.fairness) if simulation else ()
    return form_page(
        "office/plan_whatif.html",
        form,
        plan=row,
        sim=simulation,
        report_rows=REPORT_ROWS,
        **fairness_pages.context(*breakdowns),
    )


@bp.get("/plans/<int:plan_id>/status")
def plan_status(plan_id: int):
    """The plan's status and progress, polled by the plan page while it runs."""
    plan_runs.reap_interrupted(db.session())
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    return jsonify(
        {
            "id": row.id,
            "status": row.status.value,
            "status_label": label(row.status),
            "progress": row.progress,
            "error": translated(plan_service.failure_words(row.failure)),
        }
    )


@bp.post("/plans/<int:plan_id>/rerun")
def plan_rerun(plan_id: int):
    """Run a failed (or interrupted) plan again, where plans run."""
    plan_runs.reap_interrupted(db.session())
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    form = RerunForm()
    if not form.validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("office.plan", plan_id=plan_id))
    if save_from_form(form, lambda: plan_service.queue_again(db.session(), row)) is not None:
        plan_runs.start_plan(app_object(), plan_id)
        flash(_("Plan %(n)s is running again.", n=plan_id), "success")
    return redirect(url_for("office.plan", plan_id=plan_id))


@bp.route("/plans/<int:plan_id>/confirm", methods=["GET", "POST"])
def plan_confirm(plan_id: int):
    """Confirm a finished plan after a confirmation step: its assignments become offers."""
    row = scope.get_visible(db.session(), Plan, plan_id, current_user)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            made = plan_service.confirm_plan(
                db.session(),
                current_user,
                row.id,
                remote_addr=remote_addr(),
                max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
                config=convert.matcher_config(current_app.config),
            )
        except DomainError as error:
            show_errors(form, error)
            return redirect(url_for("office.plan", plan_id=plan_id))
        flash(_("Plan %(n)s confirmed: %(count)s offers made.", n=plan_id, count=len(made)), "success")
        return redirect(url_for("office.plan", plan_id=plan_id))
    count = db.session.scalar(select(func.count()).select_from(PlanAssignment).where(PlanAssignment.plan_id == row.id))
    return form_page("office/plan_confirm.html", form, plan=row, count=count)


# -- welfare posts and households without work ------------------------------------------------------


def _post_regions(form: WelfarePostForm) -> None:
    rows = db.session.scalars(
        select(Region)
        .where(
            scope.in_scope(Region.code, current_user),
            Region.level.in_([RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]),
        )
        .order_by(Region.code)
    ).all()
    form.region_code.choices = options([(r.code, f"{r.name} ({r.code})") for r in rows])


@bp.get("/welfare-posts")
def welfare_posts():
    """Welfare posts of the region and how many of their slots are held."""
    page = paginate(
        scope.scoped(WelfarePost, current_user)
        .options(selectinload(WelfarePost.region))
        .order_by(WelfarePost.region_code, WelfarePost.id)
    )
    ids = [p.id for p in page.items]
    held = convert.held_slots(db.session(), "welfare_post", ids) if ids else {}
    return render_template("office/welfare_posts.html", page=page, held=held)


@bp.route("/welfare-posts/new", methods=["GET", "POST"])
def welfare_post_new():
    """Create a public welfare post of a village or township."""
    form = WelfarePostForm()
    _post_regions(form)
    if request.method == "GET":
        form.term_start_on.data = clock.today()
    if form.validate_on_submit():
        row = save_from_form(
            form,
            lambda: registry.create_welfare_post(db.session(), form.data_for_service(), current_user, remote_addr()),
        )
        if row is not None:
            flash(_("Welfare post “%(title)s” created.", title=row.title), "success")
            return redirect(url_for("office.welfare_posts"))
    return form_page("office/welfare_post_form.html", form)


#: The level a region's households without work are counted by: the next one down, down to a county's villages.
COUNTED_BY = {
    2: RegionLevel.CITY,
    4: RegionLevel.COUNTY,
    6: RegionLevel.VILLAGE,
    9: RegionLevel.VILLAGE,
    12: RegionLevel.VILLAGE,
}


@bp.get("/without-work")
def without_work():
    """Poor households where nobody has work, counted by the regions one level down (a province office's
    cities, a city's counties, a county's villages; a page of links, not every village of a province),
    and listed with their laborers."""
    own: str = current_user.region_code
    chosen = request.args.get("region") or request.args.get("village") or ""  # village: links from before
    fits = chosen.isdigit() and chosen.startswith(own) and len(chosen) in CODE_LENGTH.values()
    shown = chosen if fits else own
    where = [_poor_without_work(), *([scope.region_filter(Household, shown)] if shown != own else [])]
    # A village shown keeps its neighbours in sight: the villages of its county (or of the office's own region).
    counted_in = shown if len(shown) < CODE_LENGTH[RegionLevel.VILLAGE] else max(own, shown[:6], key=len)
    level = COUNTED_BY[len(counted_in)]
    visible = scope.visible(Household, current_user)
    counts = households_without_work_by(db.session(), visible, counted_in, CODE_LENGTH[level], clock.today())
    # The way back up: every region between the office's own and the one shown.
    steps = [shown[:n] for n in LEVEL_LENGTHS if len(own) <= n <= len(shown)]
    names = {
        code: name for code, name in db.session.execute(select(Region.code, Region.name).where(Region.code.in_(steps)))
    }
    query = select(Household).where(*where).options(selectinload(Household.laborers), selectinload(Household.village))
    # Households under watch first (issue 13, part 5): they come first among the poor.
    page = paginate(watch.watched_first(query).order_by(Household.village_code, Household.code))
    audit_list(
        "list",
        "household",
        [h.id for h in page.items],
        filters={"region": chosen or None, "page": page.page},
        laborers=[laborer.id for h in page.items for laborer in h.laborers][:AUDIT_MAX_IDS],
    )
    return render_template(
        "office/without_work.html",
        page=page,
        counts=counts,
        level=level.value,
        steps=[(code, names.get(code, code)) for code in steps],
        shown=shown,
        own=own,
    )


@bp.get("/laborers/<int:laborer_id>/welfare")
def assign(laborer_id: int):
    """The welfare posts that suit a laborer, with reasons, and those that do not and why."""
    row = registry.read_laborer(db.session(), laborer_id, current_user, remote_addr())
    _, result = ranking.matches_for_laborer(
        db.session(),
        current_user,
        row.id,
        convert.matcher_config(current_app.config),
        limit=10,
        kinds=["welfare_post"],
        ineligible=5,
    )
    return render_template(
        "office/assign.html",
        laborer=row,
        matches=match_cards(result.matches, (row.lat, row.lon)),
        misses=match_cards(result.ineligible, (row.lat, row.lon)),
        offer_form=OfferForm(),
        refusal=offer_refusal(row.id),
        today=clock.today(),
    )


@bp.post("/laborers/<int:laborer_id>/welfare")
def assign_post(laborer_id: int):
    """Assign a welfare post to the laborer by hand (an offer of kind welfare_post)."""
    form = OfferForm()
    if not form.validate_on_submit() or not form.target_id.data.isdigit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("office.assign", laborer_id=laborer_id))
    placement = try_offer(laborer_id, "welfare_post", int(form.target_id.data))
    if placement is None:
        return redirect(url_for("office.assign", laborer_id=laborer_id))
    flash(_("Welfare post assigned; the offer is made."), "success")
    return redirect(url_for("office.placement", placement_id=placement.id))


# -- workshops -----------------------------------------------------------------------------------------


@bp.get("/workshops")
def workshops():
    """Workshops of the region: poor laborers at work, recognition and whether resumed."""
    minimum = current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"]
    page = paginate(
        scope.scoped(Employer, current_user)
        .where(Employer.kind == EmployerKind.WORKSHOP)
        .order_by(Employer.region_code, Employer.id)
    )
    ids = [e.id for e in page.items]
    figures = employer_figures(clock.today(), Employer.id.in_(ids), minimum)
    found = {row.employer_id: row for row in db.session.execute(select(figures))} if ids else {}
    rows = [
        {
            "employer": e,
            "workers": int(found[e.id].workers),
            "poor": int(found[e.id].poor),
            "is_recognised": bool(found[e.id].recognised),
            "is_resumed": bool(found[e.id].resumed),
        }
        for e in page.items
    ]
    return render_template("office/workshops.html", page=page, rows=rows, minimum=minimum)


@bp.post("/workshops/<int:employer_id>/resumed")
def workshop_resumed(employer_id: int):
    """Mark a workshop resumed (or not) before its placements are recorded in jiuye."""
    if not FlaskForm().validate_on_submit():
        flash(_("The form has expired; please try again."), "error")
        return redirect(url_for("office.workshops"))
    row = registry.get_record(db.session(), Employer, employer_id, current_user)
    registry.update_employer(
        db.session(), row.id, {"is_marked_resumed": not row.is_marked_resumed}, current_user, remote_addr()
    )
    flash(_("%(name)s saved.", name=row.name), "success")
    return redirect(url_for("office.workshops", page=page_number()))


# -- audit trail ----------------------------------------------------------------------------------------

#: Entity types an audit event may be about, for the filter (the tables' names).
AUDITED_ENTITIES = (
    "household",
    "laborer",
    "employer",
    "opening",
    "transport_batch",
    "welfare_post",
    "placement",
    "plan",
)


def _local_day(name: str) -> datetime | None:
    """A YYYY-MM-DD query argument as the UTC moment its local day starts; 422 when malformed."""
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        day = parse_day(value)
    except ValueError as exc:
        raise ValidationError.on(name, str(exc)) from None
    return clock.start_of(day)


@bp.get("/audit")
def audit_trail():
    """Search the audit trail of the office's region (read only: no view changes an event)."""
    filters = {
        "username": (request.args.get("user") or "").strip()[:64] or None,
        "action": (request.args.get("action") or "").strip()[:40] or None,
        "entity_type": (request.args.get("entity") or "").strip()[:40] or None,
        "entity_id": (request.args.get("entity_id") or "").strip()[:40] or None,
    }
    since_at = _local_day("from")
    until_at = _local_day("to")
    if since_at and until_at and until_at < since_at:
        raise ValidationError.on("to", _("must not be before the first day"))
    query = audit_events(
        current_user,
        **filters,
        since_at=since_at,
        before_at=until_at + timedelta(days=1) if until_at else None,
    )
    actions = db.session.scalars(
        audit_events(current_user)
        .order_by(None)
        .with_only_columns(AuditEvent.action)
        .distinct()
        .order_by(AuditEvent.action)
    ).all()
    return render_template(
        "office/audit.html",
        page=paginate(query, per_page=50),
        # Every action jiuye records, and any other found in the trail, by its translated name.
        actions=sorted(set(AUDIT_ACTIONS) | set(actions), key=action_label),
        action_label=action_label,
        entity_label=entity_label,
        audit_details=audit_details,
        entities=AUDITED_ENTITIES,
        args=request.args,
    )
