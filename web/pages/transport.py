"""After departure (issue 13, part 4): a batch's handover at arrival (employer and office pages) and the
office's transport subsidy ledger — claims, bulk approval, the payment list, the public notice (公示) and
the county's table of amounts. Thin views: the rules are `web.services.transport`'s.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..errors import DomainError, ValidationError
from ..extensions import db
from ..labels import label, local_time, report_workbook, translated
from ..models import (
    GONE_BATCH_STATUSES,
    BatchStatus,
    ClaimStatus,
    Region,
    SubsidyClaim,
    TransportBatch,
)
from ..services import registry, scope, transport
from ..services.accounts import audit
from .common import audit_list, form_page, paginate, remote_addr, show_errors
from .forms import BandForm, HandoverForm, RatesForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answers(passengers) -> dict[int, transport.PassengerAnswer]:
    """Each passenger's answer as posted (arrived-<id> = yes | no, reason-<id>); unanswered ones are absent."""
    answers = {}
    for placement in passengers:
        said = request.form.get(f"arrived-{placement.id}")
        if said in ("yes", "no"):
            answers[placement.id] = transport.PassengerAnswer(said == "yes", request.form.get(f"reason-{placement.id}"))
    return answers


def register_handover_views(bp: Blueprint) -> None:
    """Add /batches/<id>/handover (read, or record it once departed) and /batches/<id>/band to a blueprint."""
    name = bp.name

    @bp.route("/batches/<int:batch_id>/handover", methods=["GET", "POST"])
    def handover(batch_id: int):
        """A batch after departure: its band, and its handover — recorded, or the form to record it."""
        scope.require(current_user, "handover")
        batch = registry.get_record(db.session(), TransportBatch, batch_id, current_user)
        passengers = transport.handover_passengers(db.session(), batch)
        form = HandoverForm()
        if request.method == "GET" and form.arrived_on.data is None:
            form.arrived_on.data = clock.today()
        errors: dict[str, list[str]] = {}
        if request.method == "POST" and batch.status is BatchStatus.DEPARTED:
            answers = _answers(passengers)
            if form.validate_on_submit():
                try:
                    transport.record_handover(
                        db.session(),
                        current_user,
                        batch.id,
                        arrived_on=form.arrived_on.data,
                        received_by_name=form.received_by_name.data,
                        received_by_phone=form.received_by_phone.data,
                        passengers=answers,
                        remote_addr=remote_addr(),
                    )
                except DomainError as error:
                    if error.status == 404:
                        raise
                    errors = {k: [translated(str(m)) for m in v] for k, v in error.fields.items()}
                    show_errors(form, error)
                else:
                    flash(_("The handover is recorded; the batch has arrived."), "success")
                    return redirect(url_for(f"{name}.handover", batch_id=batch.id))
            posted = {pid: ("yes" if a.has_arrived else "no") for pid, a in answers.items()}
        else:
            posted = {}
        lines = transport.handover_of(db.session(), batch) if batch.status is BatchStatus.ARRIVED else []
        shown = [p.laborer_id for p in passengers] or [line.placement.laborer_id for line in lines]
        if shown:
            audit_list("list", "laborer", shown, batch=batch.id)
        band_form = BandForm(
            formdata=None, destination_band=batch.destination_band.value if batch.destination_band else ""
        )
        return form_page(
            "transport/handover.html",
            form,
            batch=batch,
            passengers=passengers,
            lines=lines,
            errors=errors,
            posted=posted,
            band_form=band_form,
            departs=local_time(batch.departs_at),
            blueprint=name,
        )

    @bp.post("/batches/<int:batch_id>/band")
    def batch_band(batch_id: int):
        """Set the destination band of a batch (the transport subsidy's amount follows it)."""
        form = BandForm()
        if not form.validate_on_submit():
            abort(400)
        try:
            registry.update_batch(
                db.session(),
                batch_id,
                {"destination_band": form.destination_band.data or None},
                current_user,
                remote_addr(),
            )
        except DomainError as error:
            if error.status == 404:
                raise
            show_errors(None, error)
        else:
            flash(_("The destination band is saved."), "success")
        return redirect(url_for(f"{name}.handover", batch_id=batch_id))


# -- the office's ledger -----------------------------------------------------------------------------


def _year() -> int:
    raw = request.args.get("year") or request.form.get("year") or ""
    if not raw:
        return clock.today().year
    if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
        raise ValidationError.on("year", _("a year from 2000 to 2100"))
    return int(raw)


def _status() -> str | None:
    raw = request.args.get("status") or None
    if raw is not None and raw not in {s.value for s in ClaimStatus}:
        raise ValidationError.on("status", _("unknown status %(status)s", status=raw))
    return raw


def _export(report: Any, filename: str, action: str = "export") -> Response:
    audit(
        db.session(),
        action,
        user=current_user,
        subject="laborer",
        remote_addr=remote_addr(),
        report=report.name,
        rows=len(report.subject_ids),
        laborers=report.subject_ids[:200],
    )
    return Response(
        report_workbook(report), mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}"}
    )


def register_subsidy_views(bp: Blueprint) -> None:
    """Add the office's transport subsidy ledger pages to its blueprint."""

    @bp.get("/batches")
    def batches():
        """The batches of the office's region that have left: to record their handover or read it."""
        page = paginate(
            scope.scoped(TransportBatch, current_user)
            .where(TransportBatch.status.in_(GONE_BATCH_STATUSES))
            .options(selectinload(TransportBatch.employer))
            .order_by(TransportBatch.departs_at.desc(), TransportBatch.id.desc())
        )
        return render_template("transport/batches.html", page=page)

    @bp.get("/subsidies")
    def subsidies():
        """The ledger: claims of a year (due and approved), their sums, and bulk approval of the due ones."""
        scope.require(current_user, "subsidies")
        year, status = _year(), _status()
        page = paginate(
            transport.claims_query(current_user, status=status, year=year).options(
                selectinload(SubsidyClaim.laborer), selectinload(SubsidyClaim.batch)
            )
        )
        villages = {
            r.code: r.name
            for r in db.session.scalars(select(Region).where(Region.code.in_({c.village_code for c in page.items})))
        }
        if page.items:
            audit_list("list", "laborer", [c.laborer_id for c in page.items], year=year, status=status)
        sums = transport.totals(db.session(), current_user, year=year)
        return render_template(
            "transport/subsidies.html",
            page=page,
            year=year,
            status=status,
            sums=sums,
            villages=villages,
            form=FlaskForm(),
            statuses=[(s.value, label(s.value)) for s in ClaimStatus],
        )

    @bp.post("/subsidies/approve")
    def subsidies_approve():
        """Approve the ticked due claims at once."""
        form = FlaskForm()
        if not form.validate_on_submit():
            abort(400)
        ids = [int(v) for v in request.form.getlist("claim") if v.isdigit()]
        try:
            count = transport.approve_claims(db.session(), current_user, ids, remote_addr())
        except DomainError as error:
            if error.status == 404:
                raise
            show_errors(None, error)
        else:
            flash(_("%(n)s claims approved.", n=count), "success")
        return redirect(url_for("office.subsidies", year=request.form.get("year") or None))

    @bp.get("/subsidies/payments.xlsx")
    def subsidy_payments():
        """The year's approved claims as the payment list for finance (XLSX, no formulas, a total row)."""
        scope.require(current_user, "subsidies")
        year = _year()
        report = transport.payment_list(db.session(), scope.report_scope(current_user), year)
        return _export(report, f"transport-subsidy-payments-{year}.xlsx")

    @bp.get("/subsidies/notice")
    def subsidy_notice():
        """The public notice (公示) of the year's approved claims: names, villages, amounts; printable."""
        scope.require(current_user, "subsidies")
        year = _year()
        report = transport.public_notice(db.session(), scope.report_scope(current_user), year)
        audit_list("report", "laborer", report.subject_ids, report=report.name, year=year)
        return render_template("transport/notice.html", report=report, year=year)

    @bp.get("/subsidies/notice.xlsx")
    def subsidy_notice_xlsx():
        """The public notice as XLSX, to print and post in the villages."""
        scope.require(current_user, "subsidies")
        year = _year()
        report = transport.public_notice(db.session(), scope.report_scope(current_user), year)
        return _export(report, f"transport-subsidy-notice-{year}.xlsx")

    @bp.route("/subsidies/rates", methods=["GET", "POST"])
    def subsidy_rates():
        """A county's amounts per destination band (the default until the office sets its own)."""
        counties = transport.ledger_counties(db.session(), current_user)
        if not counties:
            abort(404)
        code = request.values.get("county") or counties[0].code
        county = next((c for c in counties if c.code == code), None)
        if county is None:
            abort(404)
        rates = transport.rates_for(db.session(), county.code)
        form = RatesForm(data={r.band.value: r.amount_cents // 100 for r in rates})
        if form.validate_on_submit():
            amounts = {band.value: getattr(form, band.value).data for band in transport.BANDS}
            try:
                transport.set_rates(db.session(), current_user, county.code, amounts, remote_addr())
            except DomainError as error:
                if error.status == 404:
                    raise
                show_errors(form, error)
            else:
                flash(_("The amounts of %(county)s are saved.", county=county.name), "success")
                return redirect(url_for("office.subsidy_rates", county=county.code))
        cap = transport.cap_cents(county.code)
        return form_page(
            "transport/rates.html",
            form,
            county=county,
            counties=counties,
            rates=rates,
            cap=None if cap is None else cap // 100,
        )
