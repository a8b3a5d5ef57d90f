"""Welfare posts month by month (issue 13, part 3): the cadre's attendance form and sheet, the office's
payroll (page and XLSX), terms nearing their end, flags, and the candidates proposed for a vacated post.

Thin views over `web.services.welfare`; they are added to the cadre's and the office's blueprints
(`register_attendance_views`, `register_office_views`), so each role's gate guards them. The cadre and
the office share the attendance form (an office may record for any village of its region).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import clock
from ..errors import DomainError
from ..extensions import db
from ..labels import label, translated
from ..models import Region, RegionLevel, WelfarePost
from ..services import scope, welfare
from .common import audit_list, remote_addr, show_errors
from .forms import AttendanceForm, AttendanceImportForm, OfferForm, TermForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _month() -> Any:
    return welfare.parse_month(request.values.get("month"))


def _villages() -> list[Region]:
    """The villages whose attendance the user records (a cadre's own, an office's region's)."""
    query = Region.level == RegionLevel.VILLAGE
    return list(
        db.session.scalars(select(Region).where(query, scope.in_scope(Region.code, current_user)).order_by(Region.code))
    )


def register_attendance_views(bp: Blueprint) -> None:
    """Add /attendance (the form), its sheet download and its upload to a role's blueprint."""
    name = bp.name

    def page(village_code: str | None, month, form: AttendanceForm, import_form: AttendanceImportForm, given=None):
        village, rows = welfare.holders(db.session(), current_user, village_code, month)
        audit_list(
            "list",
            "laborer",
            [row.laborer.id for row in rows],
            filters={"village": village.code, "month": month.isoformat()[:7]},
        )
        return render_template(
            "welfare/attendance.html",
            village=village,
            villages=_villages(),
            month=month,
            rows=rows,
            form=form,
            import_form=import_form,
            given=given or {},
            errors=getattr(form, "day_errors", {}),
            months=_recent_months(),
            blueprint=name,
        )

    @bp.route("/attendance", methods=["GET", "POST"])
    def attendance():
        """One village's month: every holder of its posts on one page, days present to fill in."""
        month = _month()
        village_code = request.values.get("village") or None
        form = AttendanceForm()
        if request.method == "POST" and form.validate_on_submit():
            # A field left empty is a holder not recorded yet: the cadre may save the month in parts.
            given = {
                int(key[5:]): value
                for key, value in request.form.items()
                if key.startswith("days_") and key[5:].isdigit() and value.strip()
            }
            try:
                saved = welfare.record_attendance(
                    db.session(), current_user, village_code, month, given, remote_addr=remote_addr()
                )
            except DomainError as error:
                show_errors(None, error)
                form.day_errors = {k: [translated(str(m)) for m in v] for k, v in error.fields.items()}
                return page(village_code, month, form, AttendanceImportForm(), given), 422
            flash(_("Attendance saved for %(n)s holders.", n=len(saved)), "success")
            return redirect(url_for(f"{name}.attendance", village=village_code, month=month.isoformat()[:7]))
        return page(village_code, month, form, AttendanceImportForm())

    @bp.get("/attendance/sheet.xlsx")
    def attendance_sheet():
        """The month's attendance sheet of a village, to fill in and upload."""
        month = _month()
        village, rows = welfare.holders(db.session(), current_user, request.args.get("village") or None, month)
        audit_list("export", "laborer", [row.laborer.id for row in rows], filters={"village": village.code})
        filename = f"attendance-{village.code}-{month.isoformat()[:7]}.xlsx"
        return Response(
            welfare.attendance_template(village, month, rows),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )

    @bp.post("/attendance/import")
    def attendance_import():
        """Record a month's attendance from the filled-in sheet: every row right, or nothing saved."""
        month = _month()
        village_code = request.values.get("village") or None
        import_form = AttendanceImportForm()
        if import_form.validate_on_submit():
            upload = import_form.upload.data
            try:
                saved = welfare.import_attendance(
                    db.session(),
                    current_user,
                    village_code,
                    month,
                    upload.filename,
                    upload.read(),
                    remote_addr=remote_addr(),
                )
            except DomainError as error:
                show_errors(import_form, error)
            else:
                flash(_("Attendance imported for %(n)s holders.", n=len(saved)), "success")
                return redirect(url_for(f"{name}.attendance", village=village_code, month=month.isoformat()[:7]))
        return page(village_code, month, AttendanceForm(), import_form), 422


def _recent_months(count: int = 12) -> list[str]:
    month = welfare.month_of(clock.today())
    shown = []
    for _n in range(count):
        shown.append(month.isoformat()[:7])
        month = welfare.add_months(month, -1)
    return shown


def register_office_views(bp: Blueprint) -> None:
    """Add the payroll, terms, flags and re-assignment pages to the office's blueprint."""

    @bp.get("/payroll")
    def payroll():
        """A township's monthly payroll (用工台账): each holder's days and amount due, and the totals."""
        month = _month()
        sheet = welfare.payroll(db.session(), current_user, request.args.get("township") or None, month)
        audit_list(
            "report",
            "laborer",
            sheet.laborer_ids,
            filters={"region": sheet.township.code, "month": month.isoformat()[:7]},
        )
        return render_template(
            "welfare/payroll.html",
            sheet=sheet,
            townships=welfare.townships(db.session(), current_user),
            months=_recent_months(),
        )

    @bp.get("/payroll.xlsx")
    def payroll_xlsx():
        """The payroll as XLSX for finance (values only, totals computed, no formulas)."""
        month = _month()
        sheet = welfare.payroll(db.session(), current_user, request.args.get("township") or None, month)
        audit_list(
            "export",
            "laborer",
            sheet.laborer_ids,
            filters={"region": sheet.township.code, "month": month.isoformat()[:7]},
        )
        filename = f"payroll-{sheet.township.code}-{month.isoformat()[:7]}.xlsx"
        return Response(
            welfare.payroll_xlsx(sheet, _zh_label),
            mimetype=XLSX,
            headers={"Content-Disposition": f"attachment; filename={filename}"},
        )

    @bp.get("/welfare-terms")
    def welfare_terms():
        """Posts whose term ends soon (or has ended while open), with their holders: renew or end."""
        today = clock.today()
        rows = welfare.terms_ending(db.session(), current_user, today)
        audit_list("list", "laborer", [r.holding.laborer_id for r in rows if r.holding], filters={"show": "terms"})
        return render_template("welfare/terms.html", rows=rows, form=TermForm(), today=today)

    @bp.post("/welfare-posts/<int:post_id>/term")
    def welfare_term(post_id: int):
        """Renew or end one post's term (a recorded step)."""
        form = TermForm()
        if not form.validate_on_submit():
            flash(_("Please correct the fields marked below."), "error")
            for messages in form.errors.values():
                for message in messages:
                    flash(str(message), "error")
            return redirect(url_for("office.welfare_terms"))
        try:
            if form.action.data == "ended":
                welfare.end_term(db.session(), current_user, post_id, note=form.note.data, remote_addr=remote_addr())
                flash(_("The term is ended; the holder has left the post."), "success")
            else:
                step = welfare.renew_term(
                    db.session(),
                    current_user,
                    post_id,
                    new_end_on=form.new_end_on.data,
                    note=form.note.data,
                    remote_addr=remote_addr(),
                )
                flash(_("The term is renewed until %(day)s.", day=step.new_end_on), "success")
        except DomainError as error:
            show_errors(None, error)
        return redirect(url_for("office.welfare_terms"))

    @bp.get("/welfare-flags")
    def welfare_flags():
        """Holders at work elsewhere, households with two posts, holders past the age limit."""
        found = welfare.flags(db.session(), current_user, clock.today())
        audit_list("list", "laborer", found.laborer_ids, filters={"show": "flags"})
        return render_template("welfare/flags.html", flags=found)

    @bp.get("/welfare-posts/<int:post_id>/reassign")
    def welfare_reassign(post_id: int):
        """The candidates the welfare-post ranking proposes for a post (poor households without work first)."""
        post = scope.get_visible(db.session(), WelfarePost, post_id, current_user)
        ranked = welfare.candidates(db.session(), current_user, post.id, limit=10)
        audit_list("candidates", "laborer", [laborer.id for laborer, _m in ranked], filters={"target": post.id})
        return render_template("welfare/reassign.html", post=post, ranked=ranked, offer_form=OfferForm())


def _zh_label(code: str) -> str:
    """A code's Chinese name, for the finance spreadsheet (always Chinese, as the offices' sheets are)."""
    from flask_babel import force_locale

    with force_locale("zh"):
        return label(code)
