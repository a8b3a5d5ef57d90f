"""Pages of households' requests for welfare posts (issue 13, part 2), shared by the cadre and office blueprints.

A cadre records a request from a laborer's page and prints its receipt; both roles list the requests of
their area oldest first, with the overdue ones marked; an office answers a request by assigning a welfare
post (the existing assignment page) or refusing it with a reason. The rules are the service's
(`web.services.post_requests`); these views only turn forms into its calls.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import clock
from ..errors import DomainError
from ..extensions import db
from ..models import PostRequestStatus
from ..services import post_requests, registry
from .common import audit_list, form_page, paginate, remote_addr, show_errors
from .forms import PostRequestForm, RefuseRequestForm


def register_post_request_views(bp: Blueprint) -> None:
    """Add the request pages to a role's blueprint (cadre or office)."""
    role = bp.name

    @bp.get("/post-requests")
    def post_requests_list():
        """The requests of the user's area, oldest first; `?status=` and `?overdue=1` narrow them."""
        status = request.args.get("status") or None
        if status not in (None, *(s.value for s in PostRequestStatus)):
            status = None
        overdue = request.args.get("overdue") == "1"
        page = paginate(post_requests.requests_query(current_user, status=status, overdue=overdue))
        audit_list("list", "post_request", [r.id for r in page.items], filters={"status": status, "overdue": overdue})
        return render_template(
            "post_requests/list.html",
            page=page,
            status=status,
            overdue=overdue,
            statuses=list(PostRequestStatus),
            today=clock.today(),
            blueprint=role,
        )

    @bp.get("/post-requests/<int:request_id>")
    def post_request(request_id: int):
        """One request and its receipt (prints on one sheet)."""
        row = post_requests.read_request(db.session(), current_user, request_id, remote_addr())
        return render_template(
            "post_requests/receipt.html",
            row=row,
            today=clock.today(),
            refuse_form=RefuseRequestForm() if role == "office" else None,
            blueprint=role,
        )

    if role == "cadre":

        @bp.route("/laborers/<int:laborer_id>/post-request", methods=["GET", "POST"])
        def post_request_new(laborer_id: int):
            """Record that this laborer's household asked for a welfare post; shows the receipt."""
            laborer = registry.read_laborer(db.session(), laborer_id, current_user, remote_addr())
            form = PostRequestForm()
            if request.method == "GET":
                form.requested_on.data = clock.today()
            if form.validate_on_submit():
                try:
                    row = post_requests.record_request(
                        db.session(),
                        current_user,
                        laborer.id,
                        requested_on=form.requested_on.data,
                        note=form.note.data,
                        remote_addr=remote_addr(),
                    )
                except DomainError as error:
                    show_errors(form, error, {"laborer_id": "requested_on"})
                else:
                    flash(_("Request recorded: receipt %(receipt)s.", receipt=row.receipt_no), "success")
                    return redirect(url_for("cadre.post_request", request_id=row.id))
            return form_page("post_requests/form.html", form, laborer=laborer)

    if role == "office":

        @bp.post("/post-requests/<int:request_id>/refuse")
        def post_request_refuse(request_id: int):
            """Refuse a request, saying why (the refusal answers it)."""
            form = RefuseRequestForm()
            if form.validate_on_submit():
                try:
                    post_requests.refuse(
                        db.session(), current_user, request_id, form.reason.data, remote_addr=remote_addr()
                    )
                except DomainError as error:
                    show_errors(form, error)
                else:
                    flash(_("The request is answered: refused."), "success")
                    return redirect(url_for("office.post_request", request_id=request_id))
            row = post_requests.read_request(db.session(), current_user, request_id, remote_addr())
            return form_page(
                "post_requests/receipt.html",
                form,
                row=row,
                today=clock.today(),
                refuse_form=form,
                blueprint=role,
            )
