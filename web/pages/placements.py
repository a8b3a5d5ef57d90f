"""The placement pages every role has, each within its scope: the list, one placement, its steps and check-ins."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..errors import DomainError
from ..extensions import db
from ..labels import label, sentences
from ..models import (
    CHANNEL_FK,
    CHANNELS,
    NEEDS_REASON,
    TRANSITIONS,
    Placement,
    PlacementEvent,
    PlacementStatus,
)
from ..services import disclosure, offers, scope
from ..services.accounts import audit
from ..services.retention import due_checkins, record_checkin
from .common import audit_list, paginate_newest, remote_addr, show_errors


class ReasonForm(FlaskForm):
    """Why a placement is declined or ended (asked on a confirmation page)."""

    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


def next_steps(placement: Placement) -> list[PlacementStatus]:
    """The moves the current user may make from the placement's status (the policy's steps)."""
    return [s for s in TRANSITIONS[placement.status] if scope.may_step(current_user, s)]


def placement_target(placement: Placement):
    """The opening, batch or welfare post of a placement."""
    return placement.opening or placement.batch or placement.welfare_post


def register_placement_views(bp: Blueprint) -> None:
    """Add /placements, /placements/<id> and the transition steps to a role's blueprint."""
    name = bp.name

    @bp.get("/placements")
    def placements():
        """Placements in the user's scope, newest first, filterable by status and channel."""
        status = request.args.get("status") or None
        channel = request.args.get("channel") or None
        place = scope.scoped(Placement, current_user)
        query = place.options(
            selectinload(Placement.laborer),
            selectinload(Placement.opening),
            selectinload(Placement.batch),
            selectinload(Placement.welfare_post),
        )
        if status in {s.value for s in PlacementStatus}:
            query = query.where(Placement.status == status)
        if channel in CHANNEL_FK:
            query = query.where(getattr(Placement, CHANNEL_FK[channel]).is_not(None))
        page = paginate_newest(Placement, query, place)
        audit_list(
            "list",
            "placement",
            [p.id for p in page.items],
            filters={"status": status, "channel": channel, "page": page.page},
        )
        return render_template(
            "placements/list.html",
            page=page,
            status=status,
            channel=channel,
            statuses=list(PlacementStatus),
            channels=list(CHANNELS),
            target_of=placement_target,
            blueprint=name,
        )

    @bp.get("/placements/<int:placement_id>")
    def placement(placement_id: int):
        """One placement: where it stands, who did each step and when, and the next steps."""
        row = scope.get_visible(db.session(), Placement, placement_id, current_user)
        events = db.session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == row.id)
            .options(selectinload(PlacementEvent.by_user))
            .order_by(PlacementEvent.id)
        ).all()
        audit(db.session(), "read", user=current_user, entity=row, remote_addr=remote_addr())
        exact = disclosure.sees_exact_distances(current_user)
        return render_template(
            "placements/detail.html",
            placement=row,
            events=events,
            target=placement_target(row),
            steps=next_steps(row),
            irreversible=NEEDS_REASON,
            blueprint=name,
            # An employer: the age, the phone once agreed, whole km, and no score or distance sentence.
            shown=disclosure.identity(current_user, row.laborer, disclosure.View.LIST, placement=row),
            cadre=disclosure.cadre_contact(db.session(), current_user, row),
            distance_km=row.distance_km if exact else disclosure.employer_km(row.distance_km),
            score=row.score if exact else None,
            reasons=sentences(row.explanation, skip=() if exact else ("distance",)),
            due=due_checkins(row) if scope.may(current_user, "checkins") else [],
        )

    @bp.post("/placements/<int:placement_id>/checkin")
    def placement_checkin(placement_id: int):
        """Record a retention check-in: still working 30, 90 or 180 days in, or not."""
        if not FlaskForm().validate_on_submit():
            abort(400)
        answer = request.form.get("is_still_working")
        if answer not in ("yes", "no"):
            flash(_("Say whether the laborer is still working."), "error")
            return redirect(url_for(f"{name}.placement", placement_id=placement_id))
        try:
            record_checkin(
                db.session(),
                current_user,
                placement_id,
                request.form.get("day", type=int) or 0,
                answer == "yes",
                note=(request.form.get("note") or "").strip()[:200] or None,
                remote_addr=remote_addr(),
            )
        except DomainError as error:
            show_errors(None, error)
        else:
            flash(_("Check-in recorded."), "success")
        return redirect(url_for(f"{name}.placement", placement_id=placement_id))

    @bp.route("/placements/<int:placement_id>/to/<to>", methods=["GET", "POST"])
    def placement_step(placement_id: int, to: str):
        """Move a placement on; declining and ending ask for a reason and a confirmation first."""
        row = scope.get_visible(db.session(), Placement, placement_id, current_user)
        try:
            step = PlacementStatus(to)
        except ValueError:
            abort(404)
        if step not in next_steps(row):
            flash(_("This step is not possible now."), "error")
            return redirect(url_for(f"{name}.placement", placement_id=row.id))
        form = ReasonForm()
        needs_reason = step in NEEDS_REASON
        if request.method == "POST" and (not needs_reason or form.validate_on_submit()):
            if not needs_reason and not FlaskForm().validate_on_submit():
                abort(400)
            try:
                offers.transition(
                    db.session(),
                    current_user,
                    row.id,
                    step.value,
                    note=form.note.data if needs_reason else None,
                    max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
                    remote_addr=remote_addr(),
                )
            except DomainError as error:
                show_errors(form, error)
            else:
                flash(_("The placement is now: %(status)s.", status=label(step)), "success")
                return redirect(url_for(f"{name}.placement", placement_id=row.id))
        if not needs_reason:
            return redirect(url_for(f"{name}.placement", placement_id=row.id))
        return render_template(
            "placements/confirm.html",
            placement=row,
            target=placement_target(row),
            step=step,
            form=form,
            blueprint=name,
        )
