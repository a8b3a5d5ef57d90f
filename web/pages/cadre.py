"""The village cadre's pages: households and laborers of their villages, matches, offers, imports."""

from __future__ import annotations

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
from ..models import (
    CHANNEL_MODELS,
    COMMITTED_STATUSES,
    WORKING_STATUSES,
    Household,
    Laborer,
    LaborerStatus,
    Placement,
    PlacementStatus,
    PovertyStatus,
    Region,
)
from ..services import convert, imports, ranking, registry, scope, uploads
from ..services.accounts import audit
from ..services.stats import household_without_work, poor_household_without_work
from ..validation import parse_resident_id
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
from .forms import HouseholdForm, ImportForm, LaborerForm, OfferForm, TokenForm, options
from .labels import label, lang, translated
from .placements import register_placement_views

bp = role_blueprint("cadre", "cadre_pages")
register_placement_views(bp)


def my_villages() -> list[Region]:
    """The cadre's villages, by name."""
    return list(
        db.session.scalars(select(Region).where(scope.in_scope(Region.code, current_user)).order_by(Region.name))
    )


def household_choices() -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Household.id, Household.code, Household.head_name)
        .where(scope.visible(Household, current_user))
        .order_by(Household.code)
    ).all()
    return options((row.id, f"{row.code} {row.head_name}") for row in rows)


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
        .options(selectinload(Placement.laborer))
        .order_by(Placement.id.desc())
        .limit(5)
    ).all()
    return render_template(
        "cadre/home.html",
        villages=my_villages(),
        seeking=seeking,
        without_work=without_work,
        recent=recent,
    )


# -- households -------------------------------------------------------------------------------------


@bp.get("/households")
def households():
    """Households of the cadre's villages, filterable by village, poverty status and work."""
    query = scope.scoped(Household, current_user).options(selectinload(Household.village))
    village = request.args.get("village") or None
    poverty = request.args.get("poverty") or None
    without = request.args.get("without_work") == "1"
    if village:
        query = query.where(scope.region_filter(Household, village))
    if poverty in {p.value for p in PovertyStatus}:
        query = query.where(Household.poverty_status == poverty)
    if without:
        query = query.where(poor_household_without_work(clock.today()))
    page = paginate(query.order_by(Household.code))
    audit_list(
        "list",
        "household",
        [h.id for h in page.items],
        filters={"village": village, "poverty": poverty, "without_work": without, "page": page.page},
    )
    return render_template(
        "cadre/households.html",
        page=page,
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
            form, lambda: registry.create_household(db.session, form.data_for_service(), current_user, remote_addr())
        )
        if row is not None:
            flash(_("Household %(code)s registered.", code=row.code), "success")
            return redirect(url_for("cadre.household", household_id=row.id))
    return form_page("cadre/household_form.html", form, villages=villages, household=None)


@bp.get("/households/<int:household_id>")
def household(household_id: int):
    """A household, its members and whether it has work (the read is audited)."""
    row = registry.read_household(db.session, household_id, current_user, remote_addr())
    without = db.session.scalar(select(exists().where(Household.id == row.id, household_without_work(clock.today()))))
    return render_template("cadre/household.html", household=row, without_work=without)


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
def household_edit(household_id: int):
    """Change a household's details."""
    row = registry.get_record(db.session, Household, household_id, current_user)
    form = HouseholdForm(obj=row)
    villages = _village_choices(form)
    if request.method == "GET":
        form.poverty_status.data = row.poverty_status.value
        form.position_source.data = row.position_source.value
        registry.read_household(db.session, row.id, current_user, remote_addr())  # the form shows it all
    if form.validate_on_submit():
        try:
            registry.update_household(db.session, row.id, form.data_for_service(), current_user, remote_addr())
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
    """Laborers of the cadre's villages, filterable by status, poverty and household work."""
    query = scope.scoped(Laborer, current_user).join(Household).options(selectinload(Laborer.household))
    show = request.args.get("show") or None
    poverty = request.args.get("poverty") or None
    village = request.args.get("village") or None
    text = (request.args.get("q") or "").strip()
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
    if text:
        query = query.where(Laborer.name.contains(text) | Household.code.contains(text))
    page = paginate(query.order_by(Household.code, Laborer.id))
    audit_list(
        "list",
        "laborer",
        [row.id for row in page.items],
        filters={"show": show, "poverty": poverty, "village": village, "q": text, "page": page.page},
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
    form.household_id.choices = household_choices()
    if request.method == "GET" and request.args.get("household_id", type=int):
        form.household_id.data = request.args.get("household_id", type=int)
    if form.validate_on_submit():
        row = save_from_form(
            form, lambda: registry.create_laborer(db.session, form.data_for_service(), current_user, remote_addr())
        )
        if row is not None:
            flash(_("%(name)s registered.", name=row.name), "success")
            return redirect(url_for("cadre.laborer", laborer_id=row.id))
    return form_page("cadre/laborer_form.html", form, laborer=None)


@bp.route("/laborers/<int:laborer_id>/edit", methods=["GET", "POST"])
def laborer_edit(laborer_id: int):
    """Change a laborer's details, status and preferences."""
    row = registry.get_record(db.session, Laborer, laborer_id, current_user)
    form = LaborerForm(obj=row)
    form.household_id.choices = household_choices()
    if request.method == "GET":
        for name in ("physical_ability", "work_area", "status", "position_source"):
            getattr(form, name).data = getattr(row, name).value
        form.pay_type.data = row.pay_type.value if row.pay_type else ""
        form.skills.data = ", ".join(row.skills or [])
        form.job_types.data = [t for t in row.job_types or [] if t in WORK_JOB_TYPES]
        form.other_job_types.data = ", ".join(t for t in row.job_types or [] if t not in WORK_JOB_TYPES)
        registry.read_laborer(db.session, row.id, current_user, remote_addr())  # the form shows it all
    if form.validate_on_submit():
        changes = form.data_for_service()
        if changes["id_number"] == row.id_number:
            changes.pop("id_number")
        try:
            registry.update_laborer(db.session, row.id, changes, current_user, remote_addr())
        except DomainError as error:
            show_errors(form, error)
        else:
            flash(_("%(name)s saved.", name=form.name.data), "success")
            return redirect(url_for("cadre.laborer", laborer_id=laborer_id))
    return form_page("cadre/laborer_form.html", form, laborer=row)


def _targets(matches) -> dict[tuple[str, int], object]:
    """The opening, batch and post rows behind a list of matches, to show their names."""
    found = {}
    for kind, model in CHANNEL_MODELS.items():
        ids = [m.target_id for m in matches if m.kind == kind]
        if ids:
            for row in db.session.scalars(select(model).where(model.id.in_(ids))):
                found[(kind, row.id)] = row
    return found


@bp.get("/laborers/<int:laborer_id>")
def laborer(laborer_id: int):
    """A laborer, their top matches with reasons, the nearest misses and why, and their placements."""
    row = registry.read_laborer(db.session, laborer_id, current_user, remote_addr())
    rematch = request.args.get("rematch") == "1"
    config = convert.matcher_config(current_app.config)
    _, result = ranking.matches_for_laborer(
        db.session, current_user, row.id, config, limit=10, ineligible=5, rematch=rematch
    )
    language = lang()
    matches = [ranking.match_json(m, language) for m in result.matches]
    misses = [ranking.match_json(m, language) for m in result.ineligible]
    placements = db.session.scalars(
        select(Placement).where(Placement.laborer_id == row.id).order_by(Placement.id.desc())
    ).all()
    return render_template(
        "cadre/laborer.html",
        laborer=row,
        matches=matches,
        misses=misses,
        targets=_targets([*result.matches, *result.ineligible]),
        placements=placements,
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
    placement = try_offer(laborer_id, form.kind.data, int(form.target_id.data), rematch=rematch)
    if placement is None:
        return redirect(url_for("cadre.laborer", laborer_id=laborer_id, rematch="1" if rematch else None))
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
    today = clock.today()
    age = (
        today.year
        - resident.birth_on.year
        - ((today.month, today.day) < (resident.birth_on.month, resident.birth_on.day))
    )
    return jsonify(
        {
            "ok": True,
            "birth_on": resident.birth_on.isoformat(),
            "age": age,
            "sex": resident.sex.value,
            "sex_label": label(resident.sex.value),
            "text": _(
                "born %(birth)s, age %(age)s, %(sex)s",
                birth=resident.birth_on.isoformat(),
                age=age,
                sex=label(resident.sex.value),
            ),
        }
    )


# -- bulk import ------------------------------------------------------------------------------------


def _upload_path(token: str) -> Path | None:
    """The saved upload of this user with this token (None if there is none, or it expired)."""
    directory = uploads.upload_dir(current_app.instance_path)
    return uploads.find(directory, current_user.id, token, uploads.max_age_s())


@bp.get("/import/template.xlsx")
def import_template():
    """The XLSX template with Chinese headers and an example row."""
    return Response(
        imports.template_workbook(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=laborers-template.xlsx"},
    )


def _preview(path: Path, token: str, *, commit: bool):
    """Check (and, when asked and clean, keep) every row of a saved upload."""
    try:
        rows = imports.read_upload(path.name, path.read_bytes())
        result = imports.run_import(db.session, rows, current_user, remote_addr())
    except DomainError as error:
        # The file as a whole is refused: say why next to the upload field (422), keep nothing.
        uploads.discard(path)
        form = ImportForm()
        show_errors(form, error)
        return form_page("cadre/import.html", form, max_rows=imports.MAX_ROWS)
    if commit and result.is_ok:
        audit(
            db.session,
            "import",
            user=current_user,
            remote_addr=remote_addr(),
            rows=len(result.rows),
            laborers=result.laborers_created,
            households=result.households_created,
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
        return redirect(url_for("cadre.laborers"))
    unit_of_work.discard()  # a preview, or a sheet with errors: none of its rows is kept
    if not result.is_ok:
        uploads.discard(path)  # it can never be imported as it is: the cadre fixes and uploads again
    # Durable: the preview's unit of work is discarded, but the read of people's data stays on record.
    audit(
        db.session,
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
        headers=imports.FIELD_TO_HEADER,
        form=TokenForm(token=token),
        translated=translated,
    )
    return page, 200 if result.is_ok else 422


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
    """Import every row of the previewed sheet in one transaction, or none of them."""
    form = TokenForm()
    if not form.validate_on_submit():
        abort(400)
    path = _upload_path(form.token.data)
    if path is None:
        flash(_("That upload has expired; please upload the file again."), "error")
        return redirect(url_for("cadre.import_upload"))
    return _preview(path, form.token.data, commit=True)


@bp.post("/import/cancel")
def import_cancel():
    """Drop a previewed sheet without importing it."""
    form = TokenForm()
    if form.validate_on_submit() and (path := _upload_path(form.token.data)) is not None:
        uploads.discard(path)
    flash(_("The upload was discarded; nothing was imported."), "success")
    return redirect(url_for("cadre.import_upload"))
