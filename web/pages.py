"""Plumbing shared by the role pages (cadre, employer, office): the role gate, pagination, labels
for enumerations, domain errors shown next to form fields, and the placement pages every role has."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from matcher.types import job_label

from .errors import DomainError, ValidationError
from .extensions import db
from .models import TRANSITIONS, Placement, PlacementEvent, PlacementStatus, Role
from .services import matching
from .services.retention import due_checkins, record_checkin
from .validation import mask_id_number, parse_page

PER_PAGE = 20

#: Display names of the stored enumeration values (the database keeps the English codes).
LABELS = {
    # poverty status
    "registered_poor": _l("registered poor"),
    "monitored": _l("monitored"),
    "non_poor": _l("not poor"),
    # ability and demand
    "full": _l("full"),
    "moderate": _l("moderate"),
    "light": _l("light"),
    "none": _l("none"),
    "heavy": _l("heavy"),
    # work area
    "local": _l("near home"),
    "migrant": _l("away from home"),
    "any": _l("either"),
    # pay type
    "piece": _l("piece rate"),
    "hourly": _l("hourly"),
    "daily": _l("daily"),
    "monthly": _l("monthly"),
    # sex
    "F": _l("female"),
    "M": _l("male"),
    # laborer status
    "seeking": _l("seeking work"),
    "employed": _l("employed"),
    "self_employed": _l("self-employed"),
    "not_seeking": _l("not seeking"),
    # posting and batch status
    "open": _l("open"),
    "paused": _l("paused"),
    "closed": _l("closed"),
    "planning": _l("planning"),
    "boarding": _l("boarding"),
    "departed": _l("departed"),
    "cancelled": _l("cancelled"),
    # placement status
    "proposed": _l("proposed"),
    "offered": _l("offered"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "working": _l("working"),
    "ended": _l("ended"),
    # channels
    "opening": _l("nearby opening"),
    "batch": _l("transport batch"),
    "welfare_post": _l("welfare post"),
    # plan mode and status
    "optimal": _l("optimal"),
    "stable": _l("stable"),
    "greedy": _l("greedy (by hand)"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "confirmed": _l("confirmed"),
    # employer kinds
    "workshop": _l("poverty-alleviation workshop"),
    "enterprise": _l("enterprise"),
    "labor_agency": _l("labor agency"),
    # welfare post types
    "cleaner": _l("cleaner"),
    "road_keeper": _l("road keeper"),
    "forest_ranger": _l("forest ranger"),
    "water_keeper": _l("water keeper"),
    "patrol": _l("patrol"),
    "elder_carer": _l("elder carer"),
    "other": _l("other"),
    # position sources
    "gps": _l("phone GPS"),
    "typed": _l("typed in"),
    "gazetteer": _l("gazetteer"),
    "township": _l("township's point"),
    "county_seat": _l("county seat"),
    "synthetic": _l("village's point (approximate)"),
}

#: Messages the services raise in English, listed here so that they are extracted and translated.
SERVICE_MESSAGES = (
    _l("already registered"),
    _l("unknown household"),
    _l("unknown region"),
    _l("not a village"),
    _l("not one of your villages"),
    _l("outside your region"),
    _l("give latitude and longitude together"),
    _l("must not be greater than max_age"),
    _l("must not be before term_start_on"),
    _l("at least one pickup point"),
    _l("a welfare post belongs to a village or township"),
    _l("does not match the birth date given"),
    _l("does not match the sex given"),
    _l("say why (a reason is required)"),
    _l("your role may not do this"),
    _l("this laborer already holds an offer for this target"),
    _l("this household already holds a welfare post"),
    _l("slots were taken since the plan ran; run the plan again"),
    _l("a household in this plan received a welfare post meanwhile; run the plan again"),
    _l("the record breaks a rule of the database"),
    _l("use optimal, stable or greedy"),
)


def label(value: Any) -> str:
    """The display name of an enumeration value (its code when there is none)."""
    if value is None:
        return ""
    key = getattr(value, "value", value)
    if key in LABELS:
        return str(LABELS[key])
    # Job types are an open vocabulary: the matcher names the common ones in both languages.
    return job_label(str(key), "en" if str(get_locale()) == "en" else "zh")


def lang() -> str:
    """'zh' or 'en': which of the matcher's sentences to show."""
    return "en" if str(get_locale()) == "en" else "zh"


def translated(message: str) -> str:
    """A service's English message in the page's language, where the catalog has it."""
    return _(message) if message else message


def yuan(cents: int | None) -> str:
    """Integer cents as yuan with two decimals."""
    return "" if cents is None else f"{cents / 100:,.2f}"


def sentences(explanation: dict | None) -> list[str]:
    """The factor sentences of a stored explanation, in the page's language."""
    language = lang()
    return [f.get(language) or f.get("en", "") for f in (explanation or {}).get("factors", [])]


def local_time(moment: datetime | None) -> str:
    """A stored UTC time as local date and time, for pages."""
    if moment is None:
        return ""
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai"))
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; jiuye writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def role_blueprint(name: str, role: Role) -> Blueprint:
    """A blueprint whose every view needs a logged-in user of `role` (403 for the other roles)."""
    bp = Blueprint(name, __name__.rsplit(".", 1)[0] + "." + name, url_prefix=f"/{name}")

    @bp.before_request
    def gate():
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if current_user.role is not role:
            abort(403)
        return None

    bp.add_app_template_filter(label, "label")
    bp.add_app_template_filter(yuan, "yuan")
    bp.add_app_template_filter(sentences, "sentences")
    bp.add_app_template_global(lang, "lang")
    bp.add_app_template_global(local_time, "local_time")
    bp.add_app_template_global(mask_id_number, "mask_id")
    return bp


# -- pagination -----------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of a list and what the pager needs."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number() -> int:
    """The ?page= argument (1 when absent); 422 naming it when not a page number."""
    try:
        return parse_page(request.args.get("page"))
    except ValueError as exc:
        raise ValidationError.on("page", str(exc)) from None


def paginate(query: Select, per_page: int = PER_PAGE, *, scalars: bool = True) -> Page:
    """Run one page of `query` (already ordered) and count the whole."""
    number = page_number()
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    limited = query.limit(per_page).offset((number - 1) * per_page)
    rows = db.session.scalars(limited).all() if scalars else db.session.execute(limited).all()
    return Page(list(rows), total or 0, number, per_page)


# -- errors ---------------------------------------------------------------------------------------


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """A form's page: 422 when a submitted form was refused (its fields say why), else 200."""
    refused = request.method == "POST" and bool(form.errors)
    return render_template(template, form=form, **context), 422 if refused else 200


def show_errors(form: FlaskForm | None, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form's fields; the rest goes into a flash."""
    db.session.rollback()
    placed = False
    for name, messages in error.fields.items():
        field_name = (aliases or {}).get(name, name)
        field = getattr(form, field_name, None) if form is not None else None
        if field is None:
            continue
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.extend(translated(str(m)) for m in messages)
        placed = True
    if placed:
        flash(_("Please correct the fields marked below."), "error")
    else:
        flash(offer_message(error), "error")
        if form is not None:  # refused as a whole: the page still answers 422
            form.form_errors.append(offer_message(error))


def offer_message(error: DomainError) -> str:
    """A refusal in the page's language; the matcher's reasons come in both as 'zh / en'."""
    reasons = error.fields.get("target")
    if reasons:
        parts = [r.split(" / ", 1) for r in reasons]
        return "; ".join(p[0] if lang() == "zh" or len(p) == 1 else p[1] for p in parts)
    return translated(error.message)


def save_from_form(
    form: FlaskForm, call: Callable[[], Any], *, aliases: dict[str, str] | None = None
) -> Any | None:
    """Run a service call for a submitted form and commit; if refused, show why next to the fields."""
    try:
        saved = call()
        db.session.commit()
    except DomainError as error:
        show_errors(form, error, aliases)
        return None
    return saved


def try_offer(laborer_id: int, kind: str, target_id: int) -> Placement | None:
    """Make an offer from a page: the placement, or None once the refusal is flashed (404s propagate)."""
    try:
        placement = matching.make_offer(
            db.session, current_user, laborer_id, kind, target_id,
            matching.matcher_config(current_app.config), remote_addr=remote_addr(),
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        flash(offer_message(error), "error")
        return None
    return placement


def remote_addr() -> str | None:
    return request.remote_addr


# -- placements: the same pages for every role, each within its scope ------------------------------


class ReasonForm(FlaskForm):
    """Why a placement is declined or ended (asked on a confirmation page)."""

    note = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


#: Steps that cannot be undone: they need a reason and a confirmation page.
IRREVERSIBLE = (PlacementStatus.DECLINED, PlacementStatus.ENDED)
#: What each role may do to a placement (the service enforces it too).
ROLE_STEPS = {
    Role.EMPLOYER: (
        PlacementStatus.ACCEPTED,
        PlacementStatus.DECLINED,
        PlacementStatus.WORKING,
        PlacementStatus.ENDED,
    ),
    Role.CADRE: tuple(PlacementStatus),
    Role.OFFICE: tuple(PlacementStatus),
}


def next_steps(placement: Placement) -> list[PlacementStatus]:
    """The moves the current user may make from the placement's status."""
    allowed = ROLE_STEPS[current_user.role]
    return [s for s in TRANSITIONS[placement.status] if s in allowed]


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
        query = matching.placements_query(current_user).options(
            selectinload(Placement.laborer),
            selectinload(Placement.opening),
            selectinload(Placement.batch),
            selectinload(Placement.welfare_post),
        )
        if status in {s.value for s in PlacementStatus}:
            query = query.where(Placement.status == status)
        if channel in matching.FK:
            query = query.where(getattr(Placement, matching.FK[channel]).is_not(None))
        page = paginate(query.order_by(Placement.id.desc()))
        return render_template(
            "placements/list.html",
            page=page,
            status=status,
            channel=channel,
            statuses=list(PlacementStatus),
            channels=list(matching.FK),
            target_of=placement_target,
            blueprint=name,
        )

    @bp.get("/placements/<int:placement_id>")
    def placement(placement_id: int):
        """One placement: where it stands, who did each step and when, and the next steps."""
        row = matching.visible_placement(db.session, current_user, placement_id)
        events = db.session.scalars(
            select(PlacementEvent)
            .where(PlacementEvent.placement_id == row.id)
            .options(selectinload(PlacementEvent.by_user))
            .order_by(PlacementEvent.id)
        ).all()
        return render_template(
            "placements/detail.html",
            placement=row,
            events=events,
            target=placement_target(row),
            steps=next_steps(row),
            irreversible=IRREVERSIBLE,
            blueprint=name,
            show_id=current_user.role is not Role.EMPLOYER,
            due=due_checkins(row) if current_user.role is not Role.EMPLOYER else [],
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
                db.session, current_user, placement_id, request.form.get("day", type=int) or 0,
                answer == "yes", note=(request.form.get("note") or "").strip()[:200] or None,
                remote_addr=remote_addr(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            flash(translated(error.message), "error")
        else:
            flash(_("Check-in recorded."), "success")
        return redirect(url_for(f"{name}.placement", placement_id=placement_id))

    @bp.route("/placements/<int:placement_id>/to/<to>", methods=["GET", "POST"])
    def placement_step(placement_id: int, to: str):
        """Move a placement on; declining and ending ask for a reason and a confirmation first."""
        row = matching.visible_placement(db.session, current_user, placement_id)
        try:
            step = PlacementStatus(to)
        except ValueError:
            abort(404)
        if step not in next_steps(row):
            flash(_("This step is not possible now."), "error")
            return redirect(url_for(f"{name}.placement", placement_id=row.id))
        form = ReasonForm()
        needs_reason = step in IRREVERSIBLE
        if request.method == "POST" and (not needs_reason or form.validate_on_submit()):
            if not needs_reason and not FlaskForm().validate_on_submit():
                abort(400)
            try:
                matching.transition(
                    db.session,
                    current_user,
                    row.id,
                    step.value,
                    note=form.note.data if needs_reason else None,
                    remote_addr=remote_addr(),
                )
                db.session.commit()
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
