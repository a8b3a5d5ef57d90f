"""After departure (issue 13, part 4): POST /api/v1/batches/{id}/handover, and the office's transport
subsidy ledger under /api/v1/subsidy-claims and /api/v1/subsidy-rates."""

from __future__ import annotations

import math

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import BatchStatus, TransportBatch
from ..services import registry, scope, transport
from .common import audit_list, document_errors, remote_addr
from .schemas import (
    ApproveClaimsSchema,
    HandoverLineSchema,
    HandoverSchema,
    SubsidyClaimListArgsSchema,
    SubsidyClaimSchema,
    SubsidyRateArgsSchema,
    SubsidyRatesSchema,
    SubsidyTotalsSchema,
    page_schema,
)
from .security import SECURITY, require_user

blp = Blueprint("api_transport", __name__, url_prefix="", description="Batches after departure; transport subsidies")

ClaimPageSchema = page_schema(SubsidyClaimSchema, "SubsidyClaimPage")


@blp.route("/batches/<int:batch_id>/handover")
class Handover(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, HandoverLineSchema(many=True))
    @document_errors(blp)
    def get(self, batch_id):
        """The recorded handover of an arrived batch, passenger by passenger (empty before arrival)."""
        scope.require(g.user, "handover")
        batch = registry.get_record(db.session(), TransportBatch, batch_id, g.user)
        lines = transport.handover_of(db.session(), batch) if batch.status is BatchStatus.ARRIVED else []
        if lines:
            audit_list("list", "laborer", [line.placement.laborer_id for line in lines], batch=batch.id)
        return lines

    @blp.doc(security=SECURITY)
    @blp.arguments(HandoverSchema)
    @blp.response(200, HandoverLineSchema(many=True))
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, batch_id):
        """Record a departed batch's handover: the batch becomes `arrived`; each passenger arrived (at work
        from that day) or did not travel (placement ended with the reason, which is then required)."""
        answers = {
            p["placement_id"]: transport.PassengerAnswer(p["arrived"], p.get("reason")) for p in data["passengers"]
        }
        batch = transport.record_handover(
            db.session(),
            g.user,
            batch_id,
            arrived_on=data["arrived_on"],
            received_by_name=data["received_by_name"],
            received_by_phone=data["received_by_phone"],
            passengers=answers,
            remote_addr=remote_addr(),
        )
        return transport.handover_of(db.session(), batch)


@blp.route("/subsidy-claims")
class SubsidyClaims(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(SubsidyClaimListArgsSchema, location="query")
    @blp.response(200, ClaimPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """The transport subsidy claims of the office's region (due at the 90-day check-in), newest first."""
        per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
        query = transport.claims_query(
            g.user, status=args.get("status"), year=args.get("year"), region=args.get("region")
        )
        total = transport.count(db.session(), query)
        rows = list(db.session.scalars(query.limit(per_page).offset((args["page"] - 1) * per_page)))
        audit_list("list", "laborer", [row.laborer_id for row in rows], filters=args)
        return {
            "items": rows,
            "meta": {
                "page": args["page"],
                "per_page": per_page,
                "total": total,
                "pages": math.ceil(total / per_page) if total else 0,
            },
        }


@blp.route("/subsidy-claims/totals")
class SubsidyClaimTotals(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(SubsidyClaimListArgsSchema(only=("year", "region")), location="query")
    @blp.response(200, SubsidyTotalsSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """How many claims and how many cents, by status (due, approved), in the office's region."""
        return transport.totals(db.session(), g.user, year=args.get("year"), region=args.get("region"))


@blp.route("/subsidy-claims/approve")
class ApproveClaims(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(ApproveClaimsSchema)
    @blp.response(200, SubsidyTotalsSchema)
    @document_errors(blp, 401, 403, 404)
    def post(self, data):
        """Approve these due claims at once (all or nothing; one outside your region is a 404); answers the
        ledger's totals afterwards."""
        transport.approve_claims(db.session(), g.user, data["ids"], remote_addr())
        return transport.totals(db.session(), g.user)


@blp.route("/subsidy-rates")
class SubsidyRates(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(SubsidyRateArgsSchema, location="query")
    @blp.response(200, SubsidyRatesSchema)
    @document_errors(blp, 401, 403, 404)
    def get(self, args):
        """A county's amount per destination band (its own, or the configured default)."""
        counties = transport.ledger_counties(db.session(), g.user)
        code = args.get("county") or (counties[0].code if counties else "")
        transport.county_of(db.session(), g.user, code)
        return {"county_code": code, "rates": transport.rates_for(db.session(), code)}

    @blp.doc(security=SECURITY)
    @blp.arguments(SubsidyRatesSchema)
    @blp.response(200, SubsidyRatesSchema)
    @document_errors(blp, 401, 403, 404)
    def put(self, data):
        """Set a county's amounts in yuan per band (at most the province's cap, Shanxi 800)."""
        rates = transport.set_rates(
            db.session(), g.user, data["county_code"], data.get("amounts_yuan") or {}, remote_addr()
        )
        return {"county_code": data["county_code"], "rates": rates}
