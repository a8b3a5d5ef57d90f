"""/api/v1/plans: run a matching plan for a region, read its report beside greedy, confirm it once."""

from __future__ import annotations

from dataclasses import asdict

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..extensions import db
from ..models import PlanMode, Role
from ..services import plans
from ..services.convert import stored_factors
from .common import document_errors, remote_addr
from .security import SECURITY, require_user

blp = Blueprint("api_plans", __name__, url_prefix="/plans", description="Matching plans")


class PlanCreateSchema(Schema):
    county_code = fields.String(validate=validate.Regexp(r"^\d{6}$"), metadata={"description": "a county code"})
    region = fields.String(validate=validate.Regexp(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$"))
    mode = fields.String(required=True, validate=validate.OneOf([m.value for m in PlanMode]))

    @validates_schema
    def one_region(self, data, **kwargs):
        if bool(data.get("county_code")) == bool(data.get("region")):
            raise ValidationError("give exactly one of county_code or region", "region")


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


class PlanSchema(Schema):
    id = fields.Integer(required=True)
    region_code = fields.String(required=True)
    mode = fields.String(required=True)
    status = fields.String(required=True)
    progress = fields.Float(required=True)
    report = fields.Dict(allow_none=True)
    baseline_report = fields.Dict(allow_none=True, metadata={"description": "the greedy baseline on the same data"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    assignments = fields.List(fields.Nested(AssignmentSchema))


class ConfirmSchema(Schema):
    plan_id = fields.Integer(required=True)
    placements = fields.Integer(required=True)


def plan_json(plan, *, with_assignments: bool = True) -> dict:
    """A plan as the API shows it."""
    data = {
        "id": plan.id, "region_code": plan.region_code, "mode": plan.mode.value, "status": plan.status.value,
        "progress": plan.progress, "report": plan.report, "baseline_report": plan.baseline_report,
        "error": plan.error, "created_at": plan.created_at, "finished_at": plan.finished_at,
        "confirmed_at": plan.confirmed_at,
    }
    if with_assignments:
        data["assignments"] = [
            {"laborer_id": a.laborer_id, "kind": a.channel.value, "target_id": a.target_id, "stage": a.stage,
             "score": a.score, "distance_km": a.distance_km,
             "factors": [asdict(f) for f in stored_factors(a.explanation)]}
            for a in plan.assignments
        ]
    return data


@blp.route("")
class Plans(MethodView):
    decorators = [require_user(Role.OFFICE)]

    @blp.doc(security=SECURITY)
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Run a plan (optimal, stable or greedy) for a county or any region in your scope."""
        from ..jobs.plans import start_plan

        plan = plans.create_plan(
            db.session, g.user, data.get("county_code") or data["region"], data["mode"], remote_addr=remote_addr()
        )
        db.session.commit()
        plan = start_plan(current_app._get_current_object(), plan.id)
        return plan_json(plan)


@blp.route("/<int:plan_id>")
class PlanItem(MethodView):
    decorators = [require_user(Role.OFFICE)]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlanSchema)
    @document_errors(blp)
    def get(self, plan_id):
        """A plan: status and progress, its report beside greedy, and the proposed assignments."""
        return plan_json(plans.visible_plan(db.session, g.user, plan_id))


@blp.route("/<int:plan_id>/confirm")
class PlanConfirm(MethodView):
    decorators = [require_user(Role.OFFICE)]

    @blp.doc(security=SECURITY)
    @blp.response(200, ConfirmSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, plan_id):
        """Create offered placements from the plan, once; refused if slots filled meanwhile."""
        placements = plans.confirm_plan(db.session, g.user, plan_id, remote_addr=remote_addr())
        db.session.commit()
        return {"plan_id": plan_id, "placements": len(placements)}
