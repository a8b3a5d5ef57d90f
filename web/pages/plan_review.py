"""The office's review of a finished plan on its page: filters, the XLSX per village, remove and move one.

Thin views over `web.services.plan_review`; the plan page (`office.plan`) draws the section with
`review_context`, and these views are added to the office blueprint by `register_review_views`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import CHANNEL_FK, CHANNELS, Household, Laborer, Plan, PlanAssignment, PlanStatus, Region
from ..services import convert, ranking
from ..services import plan_review as review
from .common import audit_list, paginate, remote_addr, show_errors
from .forms import PlanRemoveForm, PlanSwapForm

#: Alternatives offered for moving one proposal: the laborer's best matches now.
SWAP_CHOICES = 4
#: Postings listed in the filter (a plan's busiest first would need a count; these are by kind and id).
MAX_POSTING_OPTIONS = 300


def _options(plan: Plan) -> dict:
    """The villages, townships and postings of the plan's proposals, for the filter's choices."""
    session = db.session()
    villages = session.scalars(
        select(Household.village_code)
        .join(Laborer, Laborer.household_id == Household.id)
        .join(PlanAssignment, PlanAssignment.laborer_id == Laborer.id)
        .where(PlanAssignment.plan_id == plan.id)
        .distinct()
    ).all()
    townships = sorted({code[:9] for code in villages})
    named = select(Region.code, Region.name).where(Region.code.in_([*villages, *townships]))
    names = dict(session.execute(named).all())
    postings: list[tuple[str, int]] = []
    for kind in CHANNELS:
        column = getattr(PlanAssignment, CHANNEL_FK[kind])
        ids = session.scalars(
            select(column).where(PlanAssignment.plan_id == plan.id, column.is_not(None)).distinct().order_by(column)
        ).all()
        postings.extend((kind, i) for i in ids)
    postings = postings[:MAX_POSTING_OPTIONS]
    titles = review.target_titles(session, postings)
    return {
        "villages": [(code, names.get(code, code)) for code in sorted(villages)],
        "townships": [(code, names.get(code, code)) for code in townships],
        "postings": [(f"{k}:{i}", k, titles.get((k, i), str(i))) for k, i in postings],
    }


def _alternatives(assignments) -> dict[int, list[tuple[str, str, str]]]:
    """For each shown proposal, the laborer's best other targets now: (kind:id, kind, title)."""
    session = db.session()
    config = convert.matcher_config(current_app.config)
    found: dict[int, list] = {}
    for a in assignments:
        try:
            _, result = ranking.matches_for_laborer(
                session, current_user, a.laborer_id, config, limit=SWAP_CHOICES + 1, ineligible=0
            )
        except DomainError:
            found[a.id] = []
            continue
        found[a.id] = [
            (m.kind, m.target_id) for m in result.matches if (m.kind, m.target_id) != (a.channel.value, a.target_id)
        ][:SWAP_CHOICES]
    titles = review.target_titles(session, [key for keys in found.values() for key in keys])
    return {aid: [(f"{k}:{i}", k, titles.get((k, i), str(i))) for k, i in keys] for aid, keys in found.items()}


def review_context(plan: Plan) -> dict:
    """What the plan page's proposals section shows: the filter, one page of proposals, their titles,
    the forms to remove or move each (a finished plan only), and the change log. Lists are audited."""
    filters = _filters()
    page = paginate(review.proposals_query(plan, filters))
    audit_list(
        "list",
        "laborer",
        [a.laborer_id for a in page.items],
        plan=plan.id,
        filters={**filters.as_args(), "page": page.page},
    )
    is_reviewable = plan.status is PlanStatus.DONE
    return {
        "page": page,
        "filters": filters,
        "filter_args": filters.as_args(),
        "options": _options(plan),
        "titles": review.target_titles(db.session(), [(a.channel.value, a.target_id) for a in page.items]),
        "is_reviewable": is_reviewable,
        "alternatives": _alternatives(page.items) if is_reviewable else {},
        "remove_form": PlanRemoveForm(),
        "swap_form": PlanSwapForm(),
        "changes": review.change_log(db.session(), plan),
    }


def register_review_views(bp: Blueprint) -> None:
    """Add the XLSX export and the remove and move steps of a plan's review to the office blueprint."""

    @bp.get("/plans/<int:plan_id>/proposals.xlsx")
    def plan_proposals_xlsx(plan_id: int):
        """The plan's proposals, as filtered, in one workbook with a sheet per village (audited)."""
        filters = _filters()
        plan = review.plan_for_review(db.session(), current_user, plan_id)
        content, _rows = review.export_xlsx(db.session(), current_user, plan, filters, remote_addr=remote_addr())
        return Response(
            content,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="plan-{plan.id}-proposals.xlsx"'},
        )

    @bp.post("/plans/<int:plan_id>/assignments/<int:assignment_id>/remove")
    def plan_remove(plan_id: int, assignment_id: int):
        """Take one proposal out of the plan."""
        form = PlanRemoveForm()
        back = redirect(url_for("office.plan", plan_id=plan_id, **_kept_args()))
        if not form.validate_on_submit():
            flash(_("Please correct the fields marked below."), "error")
            return back
        try:
            review.remove_assignment(
                db.session(), current_user, plan_id, assignment_id, note=form.note.data, remote_addr=remote_addr()
            )
        except DomainError as error:
            if error.status == 404:
                raise
            show_errors(None, error)
            return back
        flash(_("The proposal was taken out of the plan."), "success")
        return back

    @bp.post("/plans/<int:plan_id>/assignments/<int:assignment_id>/swap")
    def plan_swap(plan_id: int, assignment_id: int):
        """Move one proposal to another target (re-checked by the service)."""
        form = PlanSwapForm()
        back = redirect(url_for("office.plan", plan_id=plan_id, **_kept_args()))
        if not form.validate_on_submit():
            flash(_("Choose the target to move the proposal to."), "error")
            return back
        kind, _sep, number = form.target.data.partition(":")
        try:
            review.swap_assignment(
                db.session(),
                current_user,
                plan_id,
                assignment_id,
                kind,
                int(number),
                convert.matcher_config(current_app.config),
                note=form.note.data,
                remote_addr=remote_addr(),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            show_errors(None, error)
            return back
        flash(_("The proposal was moved."), "success")
        return back


def _filters() -> review.ReviewFilter:
    """The filter of the request's arguments (422 naming the field when one is malformed)."""
    return review.ReviewFilter.parse(
        *(request.args.get(name) for name in ("village", "township", "channel", "posting"))
    )


def _kept_args() -> dict[str, Any]:
    """The plan page's filter, kept across a change (sent back as hidden fields)."""
    return {
        name: value
        for name in ("village", "township", "channel", "posting", "page")
        if (value := (request.form.get(f"keep_{name}") or "").strip())
    }
