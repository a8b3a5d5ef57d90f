"""The office dashboard and the reports: figures that add up, drill-down, charts, XLSX exports.

Thin handlers: figures come from `web.services.stats`, lists from `web.services.reports`; who may
read which region is the access policy's (`web.services.scope`). The dashboard is for office users;
the reports for offices and village cadres (their villages).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from ..clock import today
from ..errors import ValidationError
from ..extensions import db
from ..labels import REPORT_TITLES, report_workbook, year_on_year
from ..models import Region
from ..services import fairness as fairness_service
from ..services import offers, post_requests, scope, watch
from ..services import reports as reports_service
from ..services.accounts import audit_read
from ..services.stats import month_ends, overview
from ..validation import INT32_MAX, parse_day
from . import fairness as fairness_pages
from .charts import bar_chart, line_chart
from .common import require_page

bp = Blueprint("dashboard", __name__)

#: English labels of the reports (msgids), by name.
#: Rows a report page shows; the XLSX file carries them all.
PAGE_ROWS = 500
#: Employers the dashboard lists with their answer rate (those with most offers first).
ANSWER_ROWS = 20
#: The query arguments a report reads (`_build`); only these go on to its XLSX link and audit row.
REPORT_ARGS = ("region", "on", "start", "end", "batch")


def _report_args() -> dict[str, str]:
    return {name: request.args[name] for name in REPORT_ARGS if request.args.get(name)}


def _day(name: str, default: date) -> date:
    """A YYYY-MM-DD query argument (1900–2100), or the default; 422 when malformed."""
    value = request.args.get(name)
    if not value:
        return default
    try:
        return parse_day(value)
    except ValueError as exc:
        raise ValidationError.on(name, str(exc)) from None


def _breadcrumb(code: str) -> list[Region]:
    """The region and its ancestors, from the highest one whose figures the user reads down to it."""
    codes = [code[:n] for n in (2, 4, 6, 9, 12) if n <= len(code)]
    found = {r.code: r for r in db.session.scalars(select(Region).where(Region.code.in_(codes)))}
    return [found[c] for c in codes if c in found and scope.sees_region(current_user, c)]


def _has_figures(row) -> bool:
    """True when any count of a stats row is not zero."""
    return any(v for v in asdict(row).values() if isinstance(v, int | float) and not isinstance(v, bool))


@bp.get("/dashboard")
@login_required
def index():
    """A region's figures on a day, its child regions with links down, and two charts."""
    require_page("dashboard")
    on = _day("on", today())
    code = scope.statistics_region(current_user, request.args.get("region"))
    min_poor = current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"]
    stats, children, line = overview(db.session(), code, on, month_ends(on, 12), min_poor)
    # The "directly in this region" row only matters when something sits there.
    children = [row for row in children if row.region_code != code or _has_figures(row)]
    bars = bar_chart(
        [(row.region_name or _("Directly in this region"), row.poor_at_work) for row in children],
        _("Poor laborers at work, by region"),
    )
    timeline = line_chart([(f"{day:%Y-%m}", n) for day, n in line], _("Poor laborers at work, month by month"))
    fairness = fairness_service.region_breakdown(db.session(), code, on)
    return render_template(
        "dashboard/index.html",
        answers=offers.answer_figures(db.session(), code)[:ANSWER_ROWS],
        requests=post_requests.figures(db.session(), code, on),
        stats=stats,
        children=children,
        breadcrumb=_breadcrumb(code),
        bars=bars if children else None,
        timeline=timeline,
        on=on,
        reports=REPORT_TITLES,
        year_on_year=year_on_year,
        fairness=fairness,
        **fairness_pages.context(fairness),
        watch_rows=watch.by_township(db.session(), code, on),
    )


def _build(
    name: str, within: scope.RegionScope, *, full_ids: bool = False, limit: int | None = None
) -> reports_service.Report:
    """Build a report from the request's arguments (with full ID numbers only when asked for); ``limit``:
    a page's rows, the most a report that can run to a province's households needs to read."""
    on = _day("on", today())
    if name == "households-without-work":
        return reports_service.households_without_work(db.session(), within, on, limit=limit)
    if name == "workshop-recognition":
        min_poor = current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"]
        return reports_service.workshop_recognition(db.session(), within, on, min_poor)
    if name == "batch-manifest":
        batch = request.args.get("batch", type=int)
        if batch is not None and not 0 < batch <= INT32_MAX:
            raise ValidationError.on("batch", _("not a batch number"))
        return reports_service.batch_manifest(db.session(), within, batch, full_ids=full_ids)
    if name == "welfare-roster":
        return reports_service.welfare_roster(db.session(), within, on, full_ids=full_ids)
    if name == "welfare-public-notice":
        return reports_service.welfare_public_notice(db.session(), within, on)
    if name == "placements-by-channel":
        end = _day("end", on)
        start = _day("start", date(end.year, 1, 1))
        return reports_service.placements_by_channel(db.session(), within, start, end)
    abort(404)


@bp.get("/reports")
@login_required
def reports():
    """The list of reports the user may read."""
    require_page("reports")
    return render_template("dashboard/reports.html", reports=REPORT_TITLES)


@bp.get("/reports/<name>")
@login_required
def report(name: str):
    """One report as a page (the first PAGE_ROWS rows) with a link to its XLSX file."""
    require_page("reports")
    if name not in REPORT_TITLES:
        abort(404)
    within = scope.report_scope(current_user, request.args.get("region"), report=name)
    built = _build(name, within, limit=PAGE_ROWS)
    rows = built.rows[:PAGE_ROWS]
    _audit_report("report", name, built, shown=len(rows))
    args: dict[str, Any] = {"name": name, **_report_args()}
    return render_template(
        "dashboard/report.html",
        report=built,
        title=REPORT_TITLES[name],
        rows=rows,
        xlsx_url=url_for("dashboard.report_xlsx", **args),
        full_ids_url=url_for("dashboard.report_xlsx", **args, full_ids="1")
        if name in reports_service.WITH_ID_NUMBERS
        else None,
    )


def _audit_report(action: str, name: str, built: reports_service.Report, **detail) -> None:
    """One audit row for a report read or exported: which report, which arguments, whose records."""
    audit_read(
        db.session(),
        action,
        user=current_user,
        subject=built.subject,
        ids=built.subject_ids,
        remote_addr=request.remote_addr,
        filters=_report_args(),
        report=name,
        **detail,
    )


@bp.get("/reports/<name>.xlsx")
@login_required
def report_xlsx(name: str):
    """One report as an XLSX download (masked ID numbers; full ones with ?full_ids=1); every export is audited."""
    require_page("reports")
    if name not in REPORT_TITLES:
        abort(404)
    within = scope.report_scope(current_user, request.args.get("region"), report=name)
    # Full ID numbers only in an export asked for as such, of a report that has them; audited apart.
    full_ids = request.args.get("full_ids") == "1" and name in reports_service.WITH_ID_NUMBERS
    built = _build(name, within, full_ids=full_ids)
    _audit_report("export_full_ids" if full_ids else "export", name, built)
    filename = f"{name}-{today():%Y%m%d}.xlsx"
    return Response(
        report_workbook(built),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
