"""The employer's pages: profile, openings, transport batches, ranked candidates, offers, manifests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from matcher.types import WORK_JOB_TYPES

from .. import clock
from ..errors import DomainError
from ..extensions import db
from ..labels import label, lang, local_time, report_workbook, score_words
from ..models import (
    PASSENGER_STATUSES,
    Employer,
    Household,
    Laborer,
    Opening,
    Placement,
    PostingStatus,
    Region,
    RegionLevel,
    TransportBatch,
)
from ..services import convert, disclosure, offers, ranking, registry, reports, scope
from ..services.accounts import audit
from . import maps
from .common import (
    audit_list,
    form_page,
    paginate,
    remote_addr,
    role_blueprint,
    save_from_form,
    show_errors,
)
from .forms import BatchForm, EmployerForm, OpeningForm, options, skill_words
from .placements import placement_target, register_placement_views
from .transport import register_handover_views

bp = role_blueprint("employer", "employer_pages")
register_placement_views(bp)
register_handover_views(bp)


def own_employer() -> Employer:
    return registry.get_record(db.session(), Employer, current_user.employer_id, current_user)


def held(kind: str, ids: list[int]) -> dict[int, int]:
    return convert.held_slots(db.session(), kind, ids) if ids else {}


@bp.get("/")
def home():
    """The employer's start: its postings and the offers waiting for an answer."""
    employer = own_employer()
    waiting_offers = offers.waiting_offers(db.session(), current_user)
    waiting = len(waiting_offers)
    openings = db.session.scalars(scope.scoped(Opening, current_user).order_by(Opening.id.desc()).limit(5)).all()
    batches = db.session.scalars(
        scope.scoped(TransportBatch, current_user).order_by(TransportBatch.id.desc()).limit(5)
    ).all()
    return render_template(
        "employer/home.html",
        employer=employer,
        waiting=waiting,
        waiting_offers=waiting_offers,
        openings=openings,
        batches=batches,
        today=clock.today(),
        is_half_way=offers.is_half_way,
        half_way_day=offers.half_way_day,
        target_of=placement_target,
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    """The employer's own record: name, contact and site position."""
    employer = own_employer()
    form = EmployerForm(obj=employer)
    if request.method == "GET":
        form.position_source.data = employer.position_source.value
    if form.validate_on_submit():
        try:
            registry.update_employer(db.session(), employer.id, form.data_for_service(), current_user, remote_addr())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Profile saved."), "success")
            return redirect(url_for("employer.home"))
    return form_page("employer/profile.html", form, employer=employer)


# -- openings -----------------------------------------------------------------------------------------


@bp.get("/openings")
def openings():
    """The employer's openings with their filled slots."""
    page = paginate(scope.scoped(Opening, current_user).order_by(Opening.id.desc()))
    return render_template("employer/openings.html", page=page, held=held("opening", [o.id for o in page.items]))


def _opening_form_defaults(form: OpeningForm, row: Opening) -> None:
    for name in ("physical_demand", "pay_type", "position_source"):
        getattr(form, name).data = getattr(row, name).value
    form.skills.data = skill_words(row.skills)
    if row.job_type not in WORK_JOB_TYPES:
        form.job_type.data, form.other_job_type.data = "other", row.job_type
    form.pay_yuan.data = None if row.pay_cents is None else row.pay_cents / 100


@bp.route("/openings/new", methods=["GET", "POST"])
def opening_new():
    """Post an opening; without a position it is at the employer's site."""
    form = OpeningForm()
    if request.method == "GET":
        form.start_on.data = clock.today()
    if form.validate_on_submit():
        row = save_from_form(
            form, lambda: registry.create_opening(db.session(), form.data_for_service(), current_user, remote_addr())
        )
        if row is not None:
            flash(_("Opening “%(title)s” posted.", title=row.title), "success")
            return redirect(url_for("employer.opening", opening_id=row.id))
    return form_page("employer/opening_form.html", form, opening=None)


@bp.route("/openings/<int:opening_id>/edit", methods=["GET", "POST"])
def opening_edit(opening_id: int):
    """Change an opening."""
    row = registry.get_record(db.session(), Opening, opening_id, current_user)
    form = OpeningForm(obj=row)
    if request.method == "GET":
        _opening_form_defaults(form, row)
    if form.validate_on_submit():
        try:
            registry.update_opening(db.session(), row.id, form.data_for_service(), current_user, remote_addr())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Opening saved."), "success")
            return redirect(url_for("employer.opening", opening_id=opening_id))
    return form_page("employer/opening_form.html", form, opening=row)


def _candidates(kind: str, target_id: int, placements: Callable[[Any], list[Placement]]):
    """The target's ranked candidates, each with the laborer's facts an employer may see, and its
    placements; the read of both is audited."""
    row = ranking.target_row(db.session(), current_user, kind, target_id)
    result = ranking.candidates_for_target(
        db.session(),
        current_user,
        kind,
        target_id,
        convert.matcher_config(current_app.config),
        limit=20,
    )
    ids = [m.laborer_id for m in result.matches]
    laborers = (
        {
            r.id: r
            for r in db.session.scalars(
                select(Laborer)
                .where(Laborer.id.in_(ids))
                .options(selectinload(Laborer.household).selectinload(Household.village))
            )
        }
        if ids
        else {}
    )
    language = lang()
    today = clock.today()
    people = []
    for m in result.matches:
        laborer = laborers[m.laborer_id]
        shown = disclosure.identity(current_user, laborer, disclosure.View.LIST, today=today)
        # No ID digits and no poverty status: employers never see them (services.disclosure).
        people.append(
            {
                "match": ranking.match_json(m, language),
                "name": laborer.name,
                "age": shown.age,
                "sex": shown.sex,
                "ability": laborer.physical_ability,
                "fit": score_words(m.score),
            }
        )
    # Drawn at their village's point, never their home (services.disclosure); a batch from its first pickup point.
    drawn: Any = row
    posting = drawn.pickup_points[0] if kind == "batch" else drawn
    villages = [laborers[m.laborer_id].household.village for m in result.matches]
    marks = [
        (v.lat, v.lon, str(p["name"]), m.distance_km) for v, p, m in zip(villages, people, result.matches, strict=True)
    ]
    people_map = maps.candidate_map(
        (posting.lat, posting.lon),
        marks,
        _("Where the candidates live"),
        posting.name if kind == "batch" else posting.title,
    )
    held_by = placements(row)
    audit_list("candidates", "laborer", ids, target=f"{kind} {target_id}", placements=[p.id for p in held_by])
    return row, people, held_by, people_map


@bp.get("/openings/<int:opening_id>")
def opening(opening_id: int):
    """An opening, its ranked candidates (ID numbers masked) and its placements."""
    row, people, placements, people_map = _candidates("opening", opening_id, _opening_placements)
    return render_template(
        "employer/opening.html",
        people_map=people_map,
        opening=row,
        people=people,
        placements=placements,
        held=held("opening", [row.id]).get(row.id, 0),
        status_form=FlaskForm(),
    )


def _opening_placements(row: Opening) -> list[Placement]:
    return list(
        db.session.scalars(select(Placement).where(Placement.opening_id == row.id).order_by(Placement.id.desc()))
    )


POSTING_STEPS = {"open": PostingStatus.OPEN, "paused": PostingStatus.PAUSED, "closed": PostingStatus.CLOSED}


@bp.route("/openings/<int:opening_id>/status/<status>", methods=["GET", "POST"])
def opening_status(opening_id: int, status: str):
    """Pause, reopen or close an opening; closing asks for a confirmation first."""
    row = registry.get_record(db.session(), Opening, opening_id, current_user)
    if status not in POSTING_STEPS:
        abort(404)
    form = FlaskForm()
    if request.method == "POST" and form.validate_on_submit():
        registry.update_opening(db.session(), row.id, {"status": POSTING_STEPS[status]}, current_user, remote_addr())
        flash(_("The opening is now %(status)s.", status=label(status)), "success")
        return redirect(url_for("employer.opening", opening_id=row.id))
    if status != "closed":
        return redirect(url_for("employer.opening", opening_id=row.id))
    return render_template(
        "employer/close_confirm.html",
        title=row.title,
        form=form,
        back=url_for("employer.opening", opening_id=row.id),
    )


# -- transport batches --------------------------------------------------------------------------------


def _pickup_choices(form: BatchForm, employer: Employer) -> None:
    county = employer.region_code[:6]
    regions = db.session.scalars(
        select(Region)
        .where(
            scope.region_filter(Region, county),
            Region.level.in_([RegionLevel.COUNTY, RegionLevel.TOWNSHIP]),
        )
        .order_by(Region.code)
    ).all()
    choices = options([(r.code, f"{r.name} ({r.code})") for r in regions])
    for entry in form.pickup_points.entries:
        entry.form.region_code.choices = choices


@bp.get("/batches")
def batches():
    """The employer's transport batches with their booked seats."""
    page = paginate(
        scope.scoped(TransportBatch, current_user)
        .options(selectinload(TransportBatch.pickup_points))
        .order_by(TransportBatch.departs_at.desc())
    )
    return render_template("employer/batches.html", page=page, held=held("batch", [b.id for b in page.items]))


@bp.route("/batches/new", methods=["GET", "POST"])
def batch_new():
    """Create a point-to-point transport batch with its pickup points and requirements."""
    employer = own_employer()
    form = BatchForm()
    _pickup_choices(form, employer)
    if form.validate_on_submit():
        row = save_from_form(
            form, lambda: registry.create_batch(db.session(), form.data_for_service(), current_user, remote_addr())
        )
        if row is not None:
            flash(_("Transport batch “%(title)s” created.", title=row.title), "success")
            return redirect(url_for("employer.batch", batch_id=row.id))
    return form_page("employer/batch_form.html", form)


@bp.get("/batches/<int:batch_id>")
def batch(batch_id: int):
    """A batch, its ranked candidates (ID numbers masked), passengers and manifest."""
    row, people, passengers, people_map = _candidates("batch", batch_id, _passengers)
    return render_template(
        "employer/batch.html",
        people_map=people_map,
        batch=row,
        people=people,
        passengers=passengers,
        held=held("batch", [row.id]).get(row.id, 0),
        departs=local_time(row.departs_at),
        steps=registry.BATCH_STEPS[row.status],
    )


@bp.post("/batches/<int:batch_id>/status")
def batch_status(batch_id: int):
    """Move a batch on: boarding, departed, or cancelled (which asks for a tick first)."""
    form = FlaskForm()
    to = request.form.get("status", "")
    if not form.validate_on_submit():
        abort(400)
    if to == "cancelled" and request.form.get("is_sure") != "y":
        flash(_("Tick the box to confirm that the batch is cancelled."), "error")
        return redirect(url_for("employer.batch", batch_id=batch_id))
    try:
        registry.update_batch(db.session(), batch_id, {"status": to}, current_user, remote_addr())
    except DomainError as error:
        if error.status == 404:
            raise
        show_errors(None, error)
    else:
        flash(_("The batch is now: %(status)s.", status=label(to)), "success")
    return redirect(url_for("employer.batch", batch_id=batch_id))


def _passengers(row: TransportBatch) -> list[Placement]:
    return list(
        db.session.scalars(
            select(Placement)
            .where(Placement.batch_id == row.id, Placement.status.in_(PASSENGER_STATUSES))
            .options(selectinload(Placement.laborer).selectinload(Laborer.household))
            .order_by(Placement.id)
        )
    )


@bp.get("/batches/<int:batch_id>/manifest.xlsx")
def manifest(batch_id: int):
    """The passenger manifest as XLSX, the offices' report of the same name: no ID numbers, and phones
    only of those who accepted (services.disclosure); audited."""
    row = registry.get_record(db.session(), TransportBatch, batch_id, current_user)
    within = scope.report_scope(current_user, report="batch-manifest")
    built = reports.batch_manifest(db.session(), within, row.id)
    audit(
        db.session(),
        "export",
        user=current_user,
        entity=row,
        remote_addr=remote_addr(),
        report="batch-manifest",
        rows=len(built.rows),
    )
    return Response(
        report_workbook(built),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=manifest-batch-{row.id}.xlsx"},
    )
