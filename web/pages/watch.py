"""Pages of the watch on households (issue 13, part 5) and of verifications on record (part 7), added to
the cadre's and the office's blueprints: follow-ups (overdue first) with the visit form, the overview
by township, verifications to re-check, and the form that records one for a household or a member.

Thin handlers: the rules are `web.services.watch` and `web.services.verifications`; who sees what is the
access policy's (`web.services.scope`); every list of people and every read of one is audited.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..extensions import db
from ..labels import label
from ..models import LABORER_SUBJECTS, FollowUp, Household, Role, VerificationSubject
from ..services import scope, verifications, watch
from ..services.accounts import audit
from .common import audit_list, form_page, paginate, remote_addr, save_from_form
from .forms import VerificationForm, VisitForm, options


def _fact_choices(household: Household) -> list:
    facts = [(VerificationSubject.POVERTY_STATUS.value, f"{label('poverty_status')}: {household.code}")]
    for laborer in household.laborers:
        facts += [(f"{s.value}:{laborer.id}", f"{label(s.value)}: {laborer.name}") for s in LABORER_SUBJECTS]
    return options(facts)


def register_watch_views(bp: Blueprint) -> None:
    """Add /follow-ups, /follow-ups/<id>, /verifications and /households/<id>/verify to a role's blueprint."""
    name = bp.name

    @bp.get("/follow-ups")
    def follow_ups():
        """Households under watch, overdue first (or overdue, closed, all); the office sees them by township."""
        state = request.args.get("state") or "open"
        state = state if state in watch.FOLLOW_UP_STATES else "open"
        village = request.args.get("village") or None
        today = clock.today()
        page = paginate(watch.follow_ups(current_user, state, today, region=village))
        shown = [row.household_id for row in page.items]
        audit_list("list", "household", shown, filters={"state": state, "village": village, "page": page.page})
        townships = (
            watch.by_township(db.session(), current_user.region_code or "", today, current_user)
            if current_user.role is Role.OFFICE
            else []
        )
        return render_template(
            "watch/follow_ups.html",
            page=page,
            state=state,
            states=watch.FOLLOW_UP_STATES,
            townships=townships,
            today=today,
            blueprint=name,
        )

    @bp.route("/follow-ups/<int:follow_up_id>", methods=["GET", "POST"])
    def follow_up(follow_up_id: int):
        """One follow-up: why the household is under watch, its clock, and the visit form."""
        row = scope.get_visible(db.session(), FollowUp, follow_up_id, current_user)
        form = VisitForm()
        if request.method == "GET":
            form.visited_on.data = clock.today()
            audit(
                db.session(),
                "read",
                user=current_user,
                entity=row,
                remote_addr=remote_addr(),
                household_id=row.household_id,
            )
        if row.closed_on is None and form.validate_on_submit():
            data = {
                "visited_on": form.visited_on.data,
                "outcome": form.outcome.data,
                "note": form.note.data,
                "close": form.close.data,
            }
            saved = save_from_form(
                form, lambda: watch.record_visit(db.session(), current_user, row.id, data, remote_addr=remote_addr())
            )
            if saved is not None:
                flash(_("The visit is recorded.") if not saved.closed_on else _("The follow-up is closed."), "success")
                return redirect(url_for(f"{name}.follow_up", follow_up_id=row.id))
        return form_page("watch/follow_up.html", form, row=row, today=clock.today(), blueprint=name)

    @bp.get("/verifications", endpoint="verifications")
    def verifications_due():
        """Verifications that no longer hold: the facts to check again, oldest first."""
        page = paginate(verifications.expired(current_user))
        audit_list("list", "verification", [row.id for row in page.items], filters={"page": page.page})
        return render_template("watch/verifications.html", page=page, blueprint=name)

    @bp.route("/households/<int:household_id>/verify", methods=["GET", "POST"])
    def verify(household_id: int):
        """Record a verification of the household's poverty status or a member's facts; the standing ones listed."""
        household = scope.get_visible(db.session(), Household, household_id, current_user)
        form = VerificationForm()
        form.fact.choices = _fact_choices(household)
        if request.method == "GET":
            form.verified_on.data = clock.today()
            if request.args.get("fact"):
                form.fact.data = request.args["fact"]
        if form.validate_on_submit():
            data = {**form.data_for_service(), "household_id": household.id}
            saved = save_from_form(
                form,
                lambda: verifications.record(db.session(), current_user, data, remote_addr=remote_addr()),
                aliases={"subject": "fact", "laborer_id": "fact"},
            )
            if saved is not None:
                until = saved.valid_until.isoformat()
                flash(_("The verification is recorded, valid until %(day)s.", day=until), "success")
                return redirect(url_for(f"{name}.verify", household_id=household.id))
        standing = verifications.latest(db.session(), household.id)
        audit(db.session(), "read", user=current_user, entity=household, remote_addr=remote_addr(), view="verify")
        return form_page(
            "watch/verify.html",
            form,
            household=household,
            standing=standing,
            today=clock.today(),
            follow_up=watch.is_watched(db.session(), household.id),
            blueprint=name,
        )
