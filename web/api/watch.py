"""/api/v1/follow-ups and /api/v1/verifications: the watch on households (issue 13, part 5) and
verifications on record (part 7), for cadres (their villages) and offices (their region)."""

from __future__ import annotations

import math

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..extensions import db
from ..models import FollowUp, Household, Verification
from ..services import scope, verifications, versions, watch
from ..services.accounts import audit
from .common import audit_list, document_errors, remote_addr
from .schemas import (
    FollowUpListArgsSchema,
    FollowUpSchema,
    VerificationListArgsSchema,
    VerificationSchema,
    VisitSchema,
    page_schema,
)
from .security import SECURITY, require_user

blp = Blueprint("api_watch", __name__, url_prefix="", description="Households under watch and verifications")

FollowUpPageSchema = page_schema(FollowUpSchema, "FollowUpPage")
VerificationPageSchema = page_schema(VerificationSchema, "VerificationPage")


def _page(query, args) -> tuple[list, dict]:
    per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
    session = db.session()
    total = versions.count_rows(session, query)
    rows = list(session.scalars(query.limit(per_page).offset((args["page"] - 1) * per_page)))
    meta = {"page": args["page"], "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)}
    return rows, meta


@blp.route("/follow-ups")
class FollowUps(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(FollowUpListArgsSchema, location="query")
    @blp.response(200, FollowUpPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """Follow-ups of households under watch (open, overdue first; or overdue, closed, all; audited)."""
        rows, meta = _page(watch.follow_ups(g.user, args["state"], region=args.get("region")), args)
        audit_list("list", "household", [row.household_id for row in rows], filters=args)
        return {"items": rows, "meta": meta}


@blp.route("/follow-ups/<int:follow_up_id>")
class FollowUpById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, FollowUpSchema)
    @document_errors(blp)
    def get(self, follow_up_id):
        """One follow-up (the read is audited)."""
        row = scope.get_visible(db.session(), FollowUp, follow_up_id, g.user)
        audit(db.session(), "read", user=g.user, entity=row, remote_addr=remote_addr(), household_id=row.household_id)
        return row


@blp.route("/follow-ups/<int:follow_up_id>/visit")
class FollowUpVisit(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(VisitSchema)
    @blp.response(200, FollowUpSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, follow_up_id):
        """Record the follow-up visit (day, outcome, note) and, with close, close the follow-up."""
        return watch.record_visit(db.session(), g.user, follow_up_id, data, remote_addr=remote_addr())


@blp.route("/verifications")
class Verifications(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(VerificationListArgsSchema, location="query")
    @blp.response(200, VerificationPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """Verifications on record: with expired, the standing ones to re-check, oldest first (audited)."""
        if args["expired"]:
            query = verifications.expired(g.user)
        else:
            query = scope.scoped(Verification, g.user).order_by(Verification.id.desc())
        if args.get("household_id"):
            query = query.where(Verification.household_id == args["household_id"])
        if args.get("region"):
            query = query.where(_in(args["region"]))
        rows, meta = _page(query, args)
        audit_list("list", "verification", [row.id for row in rows], filters=args)
        return {"items": rows, "meta": meta}

    @blp.doc(security=SECURITY)
    @blp.arguments(VerificationSchema)
    @blp.response(201, VerificationSchema)
    @document_errors(blp, 401, 403, 404)
    def post(self, data):
        """Record a verification of a household's poverty status or a member's ability or post eligibility."""
        return verifications.record(db.session(), g.user, data, remote_addr=remote_addr())


def _in(region: str):
    """Verification lies in the region: its household's village."""
    return Verification.household_id.in_(select(Household.id).where(scope.region_filter(Household, region)))
