"""/api/v1/plans: run a matching plan for a region, read its report beside greedy, confirm it once."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from matcher import quotas as quota_rules
from matcher.types import KINDS

from ..extensions import app_object, db
from ..models import Plan, PlanMode
from ..services import plans, scope
from ..services.convert import stored_factors
from .common import audit_list, document_errors, remote_addr
from .security import SECURITY, require_user

blp = Blueprint("api_plans", __name__, url_prefix="/plans", description="Matching plans")


class QuotaSchema(Schema):
    """A cap or reserve of an optimal plan (matcher.quotas): give exactly one of percent or count."""

    bound = fields.String(required=True, validate=validate.OneOf(quota_rules.BOUNDS))
    groups = fields.List(
        fields.String(validate=validate.OneOf(quota_rules.GROUPS)),
        required=True,
        validate=validate.Length(min=1, max=len(quota_rules.GROUPS)),
        metadata={"description": "laborers in any of these; 'village' alone, in a cap: each village apart"},
    )
    channel = fields.String(required=True, validate=validate.OneOf(KINDS))
    per = fields.String(load_default="plan", validate=validate.OneOf(quota_rules.PER))
    percent = fields.Float(
        allow_none=True,
        validate=validate.Range(min=0, max=100, min_inclusive=False),
        metadata={"description": "of slots"},
    )
    count = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))

    @validates_schema
    def well_formed(self, data, **kwargs):
        """The rules that join fields (one of percent or count; village alone in a cap), by field."""
        wrong = quota_rules.problems(data)
        if wrong:
            raise ValidationError(wrong)


class PlanCreateSchema(Schema):
    county_code = fields.String(validate=validate.Regexp(r"^\d{6}$"), metadata={"description": "a county code"})
    region = fields.String(validate=validate.Regexp(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$"))
    mode = fields.String(required=True, validate=validate.OneOf([m.value for m in PlanMode]))
    quotas = fields.List(
        fields.Nested(QuotaSchema),
        load_default=list,
        validate=validate.Length(max=quota_rules.MAX_QUOTAS),
        metadata={"description": "caps and reserves; optimal plans only"},
    )

    @validates_schema
    def one_region(self, data, **kwargs):
        if bool(data.get("county_code")) == bool(data.get("region")):
            raise ValidationError("give exactly one of county_code or region", "region")
        if data.get("quotas") and data.get("mode") != PlanMode.OPTIMAL.value:
            raise ValidationError(plans.QUOTAS_NEED_OPTIMAL, "quotas")


class PlanBatchSchema(Schema):
    region = fields.String(
        required=True,
        validate=validate.Regexp(r"^(\d{2}|\d{4}|\d{6})$"),
        metadata={"description": "a province, city or county code in your scope"},
    )
    mode = fields.String(required=True, validate=validate.OneOf([m.value for m in PlanMode]))
    per = fields.String(
        load_default="county", validate=validate.OneOf(["county"]), metadata={"description": "one plan per county"}
    )


class AssignmentFactorSchema(Schema):
    name = fields.String(required=True)
    value = fields.Float(required=True)
    weight = fields.Float(required=True)
    zh = fields.String(required=True)
    en = fields.String(required=True)


class AssignmentSchema(Schema):
    laborer_id = fields.Integer(required=True)
    kind = fields.String(required=True)
    target_id = fields.Integer(required=True)
    stage = fields.String(required=True)
    score = fields.Float(required=True)
    distance_km = fields.Float(required=True)
    factors = fields.List(fields.Nested(AssignmentFactorSchema))


class PlanSummarySchema(Schema):
    id = fields.Integer(required=True)
    region_code = fields.String(required=True)
    mode = fields.String(required=True)
    status = fields.String(required=True)
    progress = fields.Float(required=True)
    report = fields.Dict(allow_none=True)
    baseline_report = fields.Dict(allow_none=True, metadata={"description": "the greedy baseline on the same data"})
    quotas = fields.List(fields.Dict(), metadata={"description": "the caps and reserves chosen; report.quotas: met?"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    worker = fields.String(allow_none=True, metadata={"description": "the process running the plan: host:pid"})
    lease_expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "until when its runner vouches for a running plan"}
    )


class PlanSchema(PlanSummarySchema):
    assignments = fields.List(fields.Nested(AssignmentSchema))


class ConfirmSchema(Schema):
    plan_id = fields.Integer(required=True)
    placements = fields.Integer(required=True)


def plan_json(plan, *, with_assignments: bool = True) -> dict:
    """A plan as the API shows it."""
    data = {
        "id": plan.id,
        "region_code": plan.region_code,
        "mode": plan.mode.value,
        "status": plan.status.value,
        "progress": plan.progress,
        "report": plan.report,
        "baseline_report": plan.baseline_report,
        "quotas": plan.quotas or [],
        "error": plan.error,
        "created_at": plan.created_at,
        "finished_at": plan.finished_at,
        "confirmed_at": plan.confirmed_at,
        "worker": plan.worker,
        "lease_expires_at": plan.lease_expires_at,
    }
    if with_assignments:
        data["assignments"] = [
            {
                "laborer_id": a.laborer_id,
                "kind": a.channel.value,
                "target_id": a.target_id,
                "stage": a.stage,
                "score": a.score,
                "distance_km": a.distance_km,
                "factors": [asdict(f) for f in stored_factors(a.explanation)],
            }
            for a in plan.assignments
        ]
    return data


@blp.route("")
class Plans(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlanSummarySchema(many=True))
    @document_errors(blp, 401, 403)
    def get(self):
        """Plans of your region, newest first (at most 200), without their assignments; a plan whose
        runner was killed is shown failed, "interrupted"."""
        from ..jobs.plans import reap_interrupted

        reap_interrupted(db.session())
        rows = db.session.scalars(scope.scoped(Plan, g.user).order_by(Plan.id.desc()).limit(200))
        return [plan_json(row, with_assignments=False) for row in rows]

    @blp.doc(security=SECURITY)
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Run a plan (optimal, stable or greedy) for a county or any region in your scope; an optimal plan may
        carry quotas (caps and reserves per group). A quota that cannot be met fails the plan, naming it."""
        from ..jobs.plans import start_plan

        plan = plans.create_plan(
            db.session(),
            g.user,
            data.get("county_code") or data["region"],
            data["mode"],
            quotas=data.get("quotas"),
            remote_addr=remote_addr(),
        )
        app = app_object()
        plan = start_plan(app, plan.id)
        return plan_json(plan)


@blp.route("/batch")
class PlanBatch(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(PlanBatchSchema)
    @blp.response(201, PlanSummarySchema(many=True))
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Queue one plan per county of a region in your scope, in one action; as many workers as are
        started run them (`jiuye plan worker`, with REDIS_URL). The plans, by county code."""
        from ..jobs.plans import start_plan

        app = app_object()
        rows = plans.create_county_plans(db.session(), g.user, data["region"], data["mode"], remote_addr=remote_addr())
        return [plan_json(start_plan(app, row.id), with_assignments=False) for row in rows]


@blp.route("/<int:plan_id>")
class PlanItem(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlanSchema)
    @document_errors(blp)
    def get(self, plan_id):
        """A plan: status and progress, its report beside greedy, and the proposed assignments (audited)."""
        from ..jobs.plans import reap_interrupted

        reap_interrupted(db.session())
        plan = scope.get_visible(db.session(), Plan, plan_id, g.user)
        audit_list("list", "laborer", [a.laborer_id for a in plan.assignments], plan=plan.id)
        return plan_json(plan)


@blp.route("/<int:plan_id>/confirm")
class PlanConfirm(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, ConfirmSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, plan_id):
        """Create offered placements from the plan, once; refused if slots filled meanwhile."""
        placements = plans.confirm_plan(
            db.session(),
            g.user,
            plan_id,
            max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
            remote_addr=remote_addr(),
        )
        return {"plan_id": plan_id, "placements": len(placements)}
