"""The office dashboard and the reports: figures that add up, drill-down, charts, XLSX exports.

Thin handlers: figures come from `web.services.stats`, lists from `web.services.reports`.
The dashboard is for office users; the reports for offices and village cadres (their villages).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from ..errors import PermissionDeniedError, ValidationError
from ..extensions import db
from ..models import Region, Role
from ..services import reports as reports_service
from ..services.accounts import audit_read
from ..services.stats import check_stats_scope, month_ends, overview
from .charts import bar_chart, line_chart

bp = Blueprint("dashboard", __name__)

#: English labels of the reports (msgids), by name.
REPORT_TITLES = {
    "households-without-work": _l("Households still without work"),
    "workshop-recognition": _l("Workshop recognition list"),
    "batch-manifest": _l("Transport batch manifest"),
    "welfare-roster": _l("Welfare post roster"),
    "placements-by-channel": _l("Placements by channel and month"),
}
#: Rows a report page shows; the XLSX file carries them all.
PAGE_ROWS = 500


def _day(name: str, default: date) -> date:
    """A YYYY-MM-DD query argument, or the default; 422 when malformed."""
    value = request.args.get(name)
    if not value:
        return default
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError.on(name, _("use the form YYYY-MM-DD")) from None


def _require(*roles: Role) -> None:
    if current_user.role not in roles:
        raise PermissionDeniedError(_("Your role may not see this page."))


def _breadcrumb(code: str) -> list[Region]:
    """The region and its ancestors, from the user's own region down to it."""
    codes = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    found = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    own = current_user.region_code or ""
    return [found[c] for c in codes if c in found and c.startswith(own)]


def _has_figures(row) -> bool:
    """True when any count of a stats row is not zero."""
    return any(v for v in asdict(row).values() if isinstance(v, int | float) and not isinstance(v, bool))


@bp.get("/dashboard")
@login_required
def index():
    """A region's figures on a day, its child regions with links down, and two charts."""
    _require(Role.OFFICE)
    code = request.args.get("region") or current_user.region_code
    on = _day("on", date.today())
    check_stats_scope(current_user, code)
    min_poor = current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"]
    stats, children, line = overview(db.session, code, on, month_ends(on, 12), min_poor)
    # The "directly in this region" row only matters when something sits there.
    children = [row for row in children if row.region_code != code or _has_figures(row)]
    bars = bar_chart(
        [(row.region_name or _("Directly in this region"), row.poor_at_work) for row in children],
        _("Poor laborers at work, by region"),
    )
    timeline = line_chart(
        [(f"{day:%Y-%m}", n) for day, n in line], _("Poor laborers at work, month by month")
    )
    return render_template(
        "dashboard/index.html",
        stats=stats,
        children=children,
        breadcrumb=_breadcrumb(code),
        bars=bars if children else None,
        timeline=timeline,
        on=on,
        reports=REPORT_TITLES,
    )


def _build(name: str, scope: reports_service.Scope, *, full_ids: bool = False) -> reports_service.Report:
    """Build a report from the request's arguments (with full ID numbers only when asked for)."""
    on = _day("on", date.today())
    if name == "households-without-work":
        return reports_service.households_without_work(db.session, scope, on)
    if name == "workshop-recognition":
        min_poor = current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"]
        return reports_service.workshop_recognition(db.session, scope, on, min_poor)
    if name == "batch-manifest":
        batch = request.args.get("batch", type=int)
        return reports_service.batch_manifest(db.session, scope, batch, full_ids=full_ids)
    if name == "welfare-roster":
        return reports_service.welfare_roster(db.session, scope, on, full_ids=full_ids)
    if name == "placements-by-channel":
        end = _day("end", on)
        start = _day("start", date(end.year, 1, 1))
        return reports_service.placements_by_channel(db.session, scope, start, end)
    abort(404)


@bp.get("/reports")
@login_required
def reports():
    """The list of reports the user may read."""
    _require(Role.OFFICE, Role.CADRE)
    return render_template("dashboard/reports.html", reports=REPORT_TITLES)


@bp.get("/reports/<name>")
@login_required
def report(name: str):
    """One report as a page (the first PAGE_ROWS rows) with a link to its XLSX file."""
    _require(Role.OFFICE, Role.CADRE)
    if name not in REPORT_TITLES:
        abort(404)
    built = _build(name, reports_service.scope_for(current_user, request.args.get("region")))
    rows = built.rows[:PAGE_ROWS]
    _audit_report("report", name, built, shown=len(rows))
    db.session.commit()  # the audit of this read
    args = {k: v for k, v in request.args.items() if k != "full_ids"}
    return render_template(
        "dashboard/report.html",
        report=built,
        title=REPORT_TITLES[name],
        rows=rows,
        xlsx_url=url_for("dashboard.report_xlsx", name=name, **args),
        full_ids_url=url_for("dashboard.report_xlsx", name=name, **args, full_ids="1")
        if name in reports_service.WITH_ID_NUMBERS else None,
    )


def _audit_report(action: str, name: str, built: reports_service.Report, **detail) -> None:
    """One audit row for a report read or exported: which report, which arguments, whose records."""
    audit_read(
        db.session, action, user=current_user, subject=built.subject, ids=built.subject_ids,
        remote_addr=request.remote_addr, filters=dict(request.args), report=name, **detail,
    )


@bp.get("/reports/<name>.xlsx")
@login_required
def report_xlsx(name: str):
    """One report as an XLSX download (masked ID numbers; full ones with ?full_ids=1); every export is audited."""
    _require(Role.OFFICE, Role.CADRE)
    if name not in REPORT_TITLES:
        abort(404)
    # Full ID numbers only in an export asked for as such, of a report that has them; audited apart.
    full_ids = request.args.get("full_ids") == "1" and name in reports_service.WITH_ID_NUMBERS
    built = _build(name, reports_service.scope_for(current_user, request.args.get("region")), full_ids=full_ids)
    _audit_report("export_full_ids" if full_ids else "export", name, built)
    db.session.commit()
    filename = f"{name}-{date.today():%Y%m%d}.xlsx"
    return Response(
        built.to_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
