"""The village cadre's pages: households and laborers of their villages, matches, offers, imports."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from matcher.types import WORK_JOB_TYPES

from .. import clock, unit_of_work
from ..errors import DomainError
from ..extensions import db
from ..labels import IMPORT_COLUMNS, label, lang, translated
from ..models import (
    ANSWERED_STATUSES,
    COMMITTED_STATUSES,
    NO_ANSWER_REASON,
    OFFER_TEXT_STATUSES,
    WORKING_STATUSES,
    AuditEvent,
    Household,
    Laborer,
    LaborerStatus,
    Opening,
    Placement,
    PlacementEvent,
    PlacementStatus,
    PostRequestStatus,
    PovertyStatus,
    Region,
    TransportBatch,
)
from ..services import (
    convert,
    imports,
    offer_text,
    offers,
    post_requests,
    ranking,
    registry,
    scope,
    search,
    uploads,
    watch,
)
from ..services.accounts import audit
from ..services.stats import household_without_work, poor_household_without_work
from ..validation import age_on, parse_resident_id, working_age_problem
from . import maps
from .cards import match_cards
from .common import (
    audit_list,
    form_page,
    offer_refusal,
    paginate,
    remote_addr,
    role_blueprint,
    save_from_form,
    show_errors,
    try_offer,
)
from .forms import (
    HouseholdForm,
    ImportCommitForm,
    ImportForm,
    LaborerForm,
    OfferForm,
    TokenForm,
    options,
    skill_words,
)
from .placements import placement_target, register_placement_views
from .post_requests import register_post_request_views
from .watch import register_watch_views
from .welfare import register_attendance_views

bp = role_blueprint("cadre", "cadre_pages")
register_placement_views(bp)
register_attendance_views(bp)
register_post_request_views(bp)
register_watch_views(bp)


def my_villages() -> list[Region]:
    """The cadre's villages, by name."""
    return list(
        db.session.scalars(select(Region).where(scope.in_scope(Region.code, current_user)).order_by(Region.name))
    )


def _laborer_data(form: LaborerForm) -> dict:
    """The form's data for the service, its household found from the picker's code or head's name."""
    household = search.find_household(db.session(), current_user, form.household_code.data)
    return {**form.data_for_service(), "household_id": household.id}


@bp.get("/")
def home():
    """The cadre's start: their villages, who is seeking work, recent offers."""
    laborers = scope.scoped(Laborer, current_user)
    seeking = db.session.scalar(
        select(db.func.count()).select_from(laborers.where(Laborer.status == LaborerStatus.SEEKING).subquery())
    )
    without_work = db.session.scalar(
        select(db.func.count()).select_from(
            scope.scoped(Household, current_user).where(poor_household_without_work(clock.today())).subquery()
        )
    )
    recent = db.session.scalars(
        scope.scoped(Placement, current_user)
        .options(
            selectinload(Placement.laborer),
            selectinload(Placement.opening),
            selectinload(Placement.batch),
            selectinload(Placement.welfare_post),
        )
        .order_by(Placement.id.desc())
        .limit(5)
    ).all()
    days = current_app.config["HOME_RECENT_DAYS"]
    waiting = offers.waiting_offers(db.session(), current_user)
    lapsed = db.session.scalars(
        scope.scoped(Placement, current_user)
        .where(Placement.status == PlacementStatus.DECLINED, Placement.decline_reason == NO_ANSWER_REASON)
        .order_by(Placement.answer_by.desc(), Placement.id.desc())
        .limit(HOME_LIST)
    ).all()
    open_requests = db.session.scalar(
        select(db.func.count()).select_from(
            post_requests.requests_query(current_user, status=PostRequestStatus.PENDING.value).subquery()
        )
    )
    # Households under watch come first on the cadre's home (issue 13, part 5): overdue visits first.
    watched = db.session.scalars(watch.follow_ups(current_user, "open").limit(5)).all()
    return render_template(
        "cadre/home.html",
        watched=watched,
        waiting=waiting[:HOME_LIST],
        waiting_total=len(waiting),
        lapsed=lapsed,
        open_requests=open_requests,
        today=clock.today(),
        is_half_way=offers.is_half_way,
        villages=my_villages(),
        seeking=seeking,
        without_work=without_work,
        recent=recent,
        target_of=placement_target,
        days=days,
        offered=recent_steps([PlacementStatus.OFFERED], days),
        answered=recent_steps(list(ANSWERED_STATUSES), days),
    )


#: How many waiting and lapsed offers the cadre's home lists (the placements page has them all).
HOME_LIST = 10


def recent_steps(statuses: list[PlacementStatus], days: int) -> int:
    """How many placements of the cadre's laborers took one of these steps in the last `days` days."""
    since = clock.now() - timedelta(days=days)
    mine = scope.scoped(Placement, current_user).with_only_columns(Placement.id)
    counted = db.session.scalar(
        select(db.func.count(db.distinct(PlacementEvent.placement_id))).where(
            PlacementEvent.placement_id.in_(mine.scalar_subquery()),
            PlacementEvent.to_status.in_(statuses),
            PlacementEvent.at >= since,
        )
    )
    return int(counted or 0)


# -- households -------------------------------------------------------------------------------------


@bp.get("/households")
def households():
    """Households of the cadre's villages, found by code or head's name, filterable by village, poverty and work."""
    text = (request.args.get("q") or "").strip()
    query = search.households(current_user, text).options(selectinload(Household.village))
    village = request.args.get("village") or None
    poverty = request.args.get("poverty") or None
    without = request.args.get("without_work") == "1"
    if village:
        query = query.where(scope.region_filter(Household, village))
    if poverty in {p.value for p in PovertyStatus}:
        query = query.where(Household.poverty_status == poverty)
    if without:
        query = query.where(poor_household_without_work(clock.today()))
    page = paginate(watch.watched_first(query).order_by(Household.code))
    audit_list(
        "list",
        "household",
        [h.id for h in page.items],
        filters={
            "q": search.audit_term(text),
            "village": village,
            "poverty": poverty,
            "without_work": without,
            "page": page.page,
        },
    )
    return render_template(
        "cadre/households.html",
        page=page,
        q=text,
        villages=my_villages(),
        village=village,
        poverty=poverty,
        without=without,
        statuses=list(PovertyStatus),
    )


def _village_choices(form: HouseholdForm) -> list[Region]:
    villages = my_villages()
    form.village_code.choices = options([(v.code, f"{v.name} ({v.code})") for v in villages])
    return villages


@bp.route("/households/new", methods=["GET", "POST"])
def household_new():
    """Register a household; without a position it stands at its village's point."""
    form = HouseholdForm()
    villages = _village_choices(form)
    if form.validate_on_submit():
        row = save_from_form(
            form, lambda: registry.create_household(db.session(), form.data_for_service(), current_user, remote_addr())
        )
        if row is not None:
            flash(_("Household %(code)s registered.", code=row.code), "success")
            return redirect(url_for("cadre.household", household_id=row.id))
    return form_page("cadre/household_form.html", form, villages=villages, household=None)


@bp.get("/households/<int:household_id>")
def household(household_id: int):
    """A household, its members and whether it has work (the read is audited)."""
    row = registry.read_household(db.session(), household_id, current_user, remote_addr())
    without = db.session.scalar(select(exists().where(Household.id == row.id, household_without_work(clock.today()))))
    return render_template(
        "cadre/household.html", household=row, without_work=without, follow_up=watch.is_watched(db.session(), row.id)
    )


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
def household_edit(household_id: int):
    """Change a household's details."""
    row = registry.get_record(db.session(), Household, household_id, current_user)
    form = HouseholdForm(obj=row)
    villages = _village_choices(form)
    if request.method == "GET":
        form.poverty_status.data = row.poverty_status.value
        form.position_source.data = row.position_source.value
        registry.read_household(db.session(), row.id, current_user, remote_addr())  # the form shows it all
    if form.validate_on_submit():
        try:
            registry.update_household(db.session(), row.id, form.data_for_service(), current_user, remote_addr())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("Household %(code)s saved.", code=form.code.data), "success")
            return redirect(url_for("cadre.household", household_id=household_id))
    return form_page("cadre/household_form.html", form, villages=villages, household=row)


# -- laborers ---------------------------------------------------------------------------------------

LABORER_FILTERS = ("seeking", "working", "without_work")


@bp.get("/laborers")
def laborers():
    """Laborers of the cadre's villages, found by name, ID number (or its last 4), phone or household code,
    filterable by status, poverty and household work."""
    text = (request.args.get("q") or "").strip()
    query = search.laborers(current_user, text).options(selectinload(Laborer.household))
    show = request.args.get("show") or None
    poverty = request.args.get("poverty") or None
    village = request.args.get("village") or None
    if show == "seeking":
        query = query.where(Laborer.status == LaborerStatus.SEEKING)
    elif show == "working":
        working = select(Placement.laborer_id).where(Placement.status == PlacementStatus.WORKING)
        query = query.where(Laborer.status.in_(WORKING_STATUSES) | Laborer.id.in_(working))
    elif show == "without_work":
        without = select(Household.id).where(poor_household_without_work(clock.today()))
        query = query.where(Laborer.household_id.in_(without))
    if poverty in {p.value for p in PovertyStatus}:
        query = query.where(Household.poverty_status == poverty)
    if village:
        query = query.where(scope.region_filter(Household, village))
    page = paginate(query.order_by(Household.code, Laborer.id))
    audit_list(
        "list",
        "laborer",
        [row.id for row in page.items],
        filters={"show": show, "poverty": poverty, "village": village, "q": search.audit_term(text), "page": page.page},
    )
    return render_template(
        "cadre/laborers.html",
        page=page,
        show=show,
        poverty=poverty,
        village=village,
        q=text,
        villages=my_villages(),
        statuses=list(PovertyStatus),
        filters=LABORER_FILTERS,
        today=clock.today(),
    )


@bp.route("/laborers/new", methods=["GET", "POST"])
def laborer_new():
    """Register a laborer; the ID number is checked as it is typed and again here."""
    form = LaborerForm()
    if request.method == "GET" and (chosen := request.args.get("household_id", type=int)):
        household = db.session.scalar(scope.scoped(Household, current_user).where(Household.id == chosen))
        form.household_code.data = household.code if household is not None else None
    if form.validate_on_submit():
        row = save_from_form(
            form,
            lambda: registry.create_laborer(db.session(), _laborer_data(form), current_user, remote_addr()),
            aliases={"household_id": "household_code"},
        )
        if row is not None:
            flash(_("%(name)s registered.", name=row.name), "success")
            return redirect(url_for("cadre.laborer", laborer_id=row.id))
    return form_page(
        "cadre/laborer_form.html", form, laborer=None, households=search.picker_options(db.session(), current_user)
    )


@bp.route("/laborers/<int:laborer_id>/edit", methods=["GET", "POST"])
def laborer_edit(laborer_id: int):
    """Change a laborer's details, status and preferences."""
    row = registry.get_record(db.session(), Laborer, laborer_id, current_user)
    form = LaborerForm(obj=row)
    if request.method == "GET":
        form.household_code.data = row.household.code
        for name in ("physical_ability", "work_area", "status", "position_source"):
            getattr(form, name).data = getattr(row, name).value
        form.pay_type.data = row.pay_type.value if row.pay_type else ""
        form.skills.data = skill_words(row.skills)
        form.job_types.data = [t for t in row.job_types or [] if t in WORK_JOB_TYPES]
        form.other_job_types.data = ", ".join(t for t in row.job_types or [] if t not in WORK_JOB_TYPES)
        registry.read_laborer(db.session(), row.id, current_user, remote_addr())  # the form shows it all
    if form.validate_on_submit():
        try:
            changes = _laborer_data(form)
            if changes["id_number"] == row.id_number:
                changes.pop("id_number")
            registry.update_laborer(db.session(), row.id, changes, current_user, remote_addr())
        except DomainError as error:
            show_errors(form, error, {"household_id": "household_code"})
        else:
            flash(_("%(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("cadre.laborer", laborer_id=laborer_id))
    return form_page(
        "cadre/laborer_form.html", form, laborer=row, households=search.picker_options(db.session(), current_user)
    )


@bp.get("/laborers/<int:laborer_id>")
def laborer(laborer_id: int):
    """A laborer, their top matches as cards (and a map), the nearest misses and why, and their placements
    with the offer text to read out or send."""
    row = registry.read_laborer(db.session(), laborer_id, current_user, remote_addr())
    rematch = request.args.get("rematch") == "1"
    config = convert.matcher_config(current_app.config)
    result = ranking.matches_for_laborer(
        db.session(), current_user, row.id, config, limit=10, ineligible=5, rematch=rematch
    )[1]
    home = (row.lat, row.lon)
    placements = db.session.scalars(
        select(Placement)
        .where(Placement.laborer_id == row.id)
        .options(
            selectinload(Placement.opening).selectinload(Opening.employer),
            selectinload(Placement.batch).selectinload(TransportBatch.employer),
            selectinload(Placement.batch).selectinload(TransportBatch.pickup_points),
            selectinload(Placement.welfare_post),
        )
        .order_by(Placement.id.desc())
    ).all()
    text_lang = offer_text.language_of(request.args.get("lang") or lang())
    texts = {
        p.id: offer_text.offer_text(db.session(), current_user, p, text_lang)
        for p in placements
        if p.status in OFFER_TEXT_STATUSES
    }
    cards = match_cards(result.matches, home)
    return render_template(
        "cadre/laborer.html",
        laborer=row,
        matches=cards,
        misses=match_cards(result.ineligible, home),
        match_map=maps.match_map(
            home, result.matches, _("Where the matches are"), [c.facts.title if c.facts else "" for c in cards]
        ),
        placements=placements,
        target_of=placement_target,
        texts=texts,
        offer_form=OfferForm(),
        refusal=offer_refusal(row.id, rematch=rematch),
        rematch=rematch,
        committed=any(p.status in COMMITTED_STATUSES for p in placements),
        today=clock.today(),
    )


@bp.post("/laborers/<int:laborer_id>/offer")
def offer(laborer_id: int):
    """Offer the laborer a target; eligibility and free slots are checked again now."""
    form = OfferForm()
    if not form.validate_on_submit() or not form.target_id.data.isdigit():
        abort(400)
    # The re-match view posts with ?rematch=1: an offer to someone who has accepted one or is at work.
    rematch = request.args.get("rematch") == "1"
    # "Refer" (a second button): the employer hears of the laborer; no slot is held until it is an offer.
    refer = request.form.get("refer") == "1"
    placement = try_offer(laborer_id, form.kind.data, int(form.target_id.data), rematch=rematch, refer=refer)
    if placement is None:
        return redirect(url_for("cadre.laborer", laborer_id=laborer_id, rematch="1" if rematch else None))
    if refer:
        flash(_("Referred to the employer: %(channel)s.", channel=label(form.kind.data)), "success")
        return redirect(url_for("cadre.placement", placement_id=placement.id))
    flash(_("Offer made: %(channel)s.", channel=label(form.kind.data)), "success")
    return redirect(url_for("cadre.placement", placement_id=placement.id))


@bp.get("/check-id")
def check_id():
    """Check an ID number as it is typed: birth date, age and sex, or what is wrong."""
    value = request.args.get("value", "")[:40]
    try:
        resident = parse_resident_id(value)
    except ValueError as exc:
        return jsonify({"ok": False, "error": str(exc)})
    age = age_on(resident.birth_on, clock.today())
    problem = working_age_problem(resident.birth_on, over_age_confirmed=False)
    if problem is not None and problem[0] == "id_number":
        return jsonify({"ok": False, "error": problem[1]})
    text = _(
        "born %(birth)s, age %(age)s, %(sex)s",
        birth=resident.birth_on.isoformat(),
        age=age,
        sex=label(resident.sex.value),
    )
    return jsonify(
        {
            "ok": True,
            "warning": problem[1] if problem else None,
            "birth_on": resident.birth_on.isoformat(),
            "age": age,
            "sex": resident.sex.value,
            "sex_label": label(resident.sex.value),
            "text": f"{text}{'；' if lang() == 'zh' else '; '}{problem[1]}" if problem else text,
        }
    )


# -- bulk import ------------------------------------------------------------------------------------


def _upload_path(token: str) -> Path | None:
    """The saved upload of this user with this token (None if there is none, or it expired)."""
    directory = uploads.upload_dir(current_app.instance_path)
    return uploads.find(directory, current_user.id, token, uploads.max_age_s())


@bp.get("/import/template.xlsx")
def import_template():
    """The XLSX template with Chinese headers, dropdowns and an example row in the cadre's first village."""
    villages = sorted(current_user.village_codes)
    return Response(
        imports.template_workbook(villages[0] if villages else None),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=laborers-template.xlsx"},
    )


def _preview(path: Path, token: str, *, commit: bool, valid_only: bool = False):
    """Check (and, when asked, keep) the rows of a saved upload: all of them, and only when every row
    is correct; or, with `valid_only`, the correct ones, the refused rows returned as a workbook."""
    try:
        rows = imports.read_upload(path.name, path.read_bytes())
        result = imports.run_import(db.session(), rows, current_user, remote_addr())
    except DomainError as error:
        # The file as a whole is refused: say why next to the upload field (422), keep nothing.
        uploads.discard(path)
        form = ImportForm()
        show_errors(form, error)
        return form_page("cadre/import.html", form, max_rows=imports.MAX_ROWS)
    if commit and (result.is_ok or (valid_only and result.imported)):
        return _imported(path, result)
    unit_of_work.discard()  # a preview, or a sheet with errors: none of its rows is kept
    if not result.imported:
        uploads.discard(path)  # no row can be imported as it is: the cadre fixes and uploads again
    # Durable: the preview's unit of work is discarded, but the read of people's data stays on record.
    audit(
        db.session(),
        "import_preview",
        user=current_user,
        subject="laborer",
        remote_addr=remote_addr(),
        durable=True,
        rows=len(result.rows),
        failed=len(result.failed),
    )
    if commit:
        flash(_("Nothing was imported: some rows have errors."), "error")
    page = render_template(
        "cadre/import_preview.html",
        result=result,
        columns=imports.COLUMNS,
        headers={name: str(words) for name, words in IMPORT_COLUMNS.items()},
        form=ImportCommitForm(token=token),
        translated=translated,
    )
    return page, 200 if result.is_ok else 422


def _imported(path: Path, result: imports.ImportResult):
    """Keep the import, then show what was created; the record of it (the audit event) says which rows."""
    refused_token = None
    if result.failed:
        # The refused rows, with their errors, as a workbook to fix and upload again.
        directory = uploads.upload_dir(current_app.instance_path)
        refused = io.BytesIO(imports.refused_workbook(result.failed))
        refused_token, _path = uploads.save(directory, current_user.id, refused, ".xlsx")
    event = audit(
        db.session(),
        "import",
        user=current_user,
        remote_addr=remote_addr(),
        rows=len(result.rows),
        laborers=result.laborers_created,
        households=result.households_created,
        refused=len(result.failed),
        laborer_ids=[row.laborer_id for row in result.imported],
        household_ids=sorted(result.new_household_ids),
        refused_token=refused_token,
    )
    # The upload stays until its rows are saved: a commit refused now can be tried again.
    unit_of_work.after_commit(lambda: uploads.discard(path))
    flash(
        _(
            "Imported %(laborers)s laborers and %(households)s new households.",
            laborers=result.laborers_created,
            households=result.households_created,
        ),
        "success",
    )
    return redirect(url_for("cadre.import_done", event_id=event.id))


@bp.get("/import/done/<int:event_id>")
def import_done(event_id: int):
    """What one of the user's imports created: each laborer and new household by name, linked."""
    event = db.session.get(AuditEvent, event_id)
    if event is None or event.action != "import" or event.user_id != current_user.id or not event.detail:
        abort(404)
    detail = event.detail
    laborers = db.session.scalars(
        scope.scoped(Laborer, current_user)
        .where(Laborer.id.in_(detail.get("laborer_ids") or []))
        .options(selectinload(Laborer.household))
        .order_by(Laborer.id)
    ).all()
    households = db.session.scalars(
        scope.scoped(Household, current_user)
        .where(Household.id.in_(detail.get("household_ids") or []))
        .order_by(Household.id)
    ).all()
    refused_token = detail.get("refused_token")
    return render_template(
        "cadre/import_done.html",
        rows=detail.get("rows", 0),
        refused=detail.get("refused", 0),
        laborers=laborers,
        households=households,
        refused_token=refused_token if refused_token and _upload_path(refused_token) else None,
    )


@bp.get("/import/refused/<token>.xlsx")
def import_refused(token: str):
    """The rows an import refused, with an error column: fix them and upload the file again."""
    path = _upload_path(token)
    if path is None or path.suffix != ".xlsx":
        abort(404)
    return Response(
        path.read_bytes(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=laborers-refused.xlsx"},
    )


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    """Upload a sheet of laborers; the next page previews it row by row."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.upload.data
        suffix = ".xlsx" if upload.filename.lower().endswith(".xlsx") else ".csv"
        directory = uploads.upload_dir(current_app.instance_path)
        token, path = uploads.save(directory, current_user.id, upload.stream, suffix)
        upload.close()
        return _preview(path, token, commit=False)
    return form_page("cadre/import.html", form, max_rows=imports.MAX_ROWS)


@bp.post("/import/commit")
def import_commit():
    """Import every row of the previewed sheet in one transaction, or none of them; or, when asked
    (mode=valid), only the rows without errors."""
    form = ImportCommitForm()
    if not form.validate_on_submit():
        abort(400)
    path = _upload_path(form.token.data)
    if path is None:
        flash(_("That upload has expired; please upload the file again."), "error")
        return redirect(url_for("cadre.import_upload"))
    return _preview(path, form.token.data, commit=True, valid_only=form.mode.data == "valid")


@bp.post("/import/cancel")
def import_cancel():
    """Drop a previewed sheet without importing it."""
    form = TokenForm()
    if form.validate_on_submit() and (path := _upload_path(form.token.data)) is not None:
        uploads.discard(path)
    flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("cadre.import_upload"))
