"""/api/v1/plans: run a matching plan for a region, read its report beside greedy, confirm it once."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from matcher import quotas as quota_rules
from matcher.types import KINDS

from ..extensions import app_object, db
from ..models import CHANNELS, Plan, PlanMode
from ..services import fairness, plan_review, plans, scope, whatif
from ..services.convert import matcher_config, stored_factors
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
    id = fields.Integer(metadata={"description": "the assignment, for reviewing it (remove, swap)"})
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
    error = fields.String(allow_none=True, metadata={"description": "a failed plan's cause, for developers"})
    failure = fields.Dict(
        allow_none=True,
        metadata={
            "description": "why the plan failed: code interrupted, error, or quota (with quota, reason: too_few,"
            " blocked or together, need, possible)"
        },
    )
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


class FairnessSchema(Schema):
    plan_id = fields.Integer(required=True)
    min_ratio = fields.Float(
        required=True,
        metadata={
            "description": "FAIRNESS_MIN_RATIO: rates below this share of the overall rate are listed in `below`"
        },
    )
    plan = fields.Dict(
        allow_none=True,
        metadata={
            "description": "overall and per dimension (sex, age_band, village, poverty, ability) one row per group: "
            "laborers, placed, households_without_work, households_moved, checked / retained (90-day check-ins), "
            "their rates, ratios to the overall rate and `below`; null for a plan stored before breakdowns were kept"
        },
    )
    baseline = fields.Dict(allow_none=True, metadata={"description": "the same for the greedy baseline (no retention)"})


class AddedSchema(Schema):
    region_code = fields.String(required=True, validate=validate.Regexp(r"^(\d{9}|\d{12})$"))
    count = fields.Integer(required=True, validate=validate.Range(min=1, max=10_000))


class WhatIfSchema(Schema):
    workshops = fields.List(
        fields.Nested(AddedSchema),
        load_default=list,
        validate=validate.Length(max=whatif.MAX_PARTS),
        metadata={"description": "new workshops: a village code and its slots"},
    )
    batches = fields.List(
        fields.Nested(AddedSchema),
        load_default=list,
        validate=validate.Length(max=whatif.MAX_PARTS),
        metadata={"description": "new batches: the village or township of the pickup point and the seats"},
    )
    welfare_posts = fields.List(
        fields.Nested(AddedSchema),
        load_default=list,
        validate=validate.Length(max=whatif.MAX_PARTS),
        metadata={"description": "new welfare posts: a township code and how many one-slot posts"},
    )
    commute_extra_km = fields.Float(
        load_default=0.0,
        validate=validate.Range(min=0, max=100),
        metadata={"description": "every laborer's commute limit this many km longer"},
    )


class OutcomeSchema(Schema):
    report = fields.Dict(required=True, metadata={"description": "the engine's report, as a plan keeps it"})
    fairness = fields.Dict(required=True, metadata={"description": "as in GET /plans/{id}/fairness"})


class WhatIfResultSchema(Schema):
    plan_id = fields.Integer(required=True)
    changes = fields.Dict(required=True)
    added = fields.Dict(required=True, metadata={"description": "places added, by kind"})
    current = fields.Nested(OutcomeSchema, required=True, metadata={"description": "the plan on today's records"})
    what_if = fields.Nested(OutcomeSchema, required=True, metadata={"description": "the same with the changes"})


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
        "failure": plan.failure,
        "created_at": plan.created_at,
        "finished_at": plan.finished_at,
        "confirmed_at": plan.confirmed_at,
        "worker": plan.worker,
        "lease_expires_at": plan.lease_expires_at,
    }
    if with_assignments:
        data["assignments"] = [
            {
                "id": a.id,
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
            config=matcher_config(current_app.config),
            remote_addr=remote_addr(),
        )
        return {"plan_id": plan_id, "placements": len(placements)}


@blp.route("/<int:plan_id>/fairness")
class PlanFairness(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, FairnessSchema)
    @document_errors(blp)
    def get(self, plan_id):
        """Who the plan helps, by sex, age band, village, poverty status and ability, beside greedy; with
        the 90-day retention of the offers it made once check-ins exist (counts only: no personal data)."""
        plan = scope.get_visible(db.session(), Plan, plan_id, g.user)
        mine, baseline = fairness.plan_fairness(db.session(), plan)
        min_ratio = current_app.config["FAIRNESS_MIN_RATIO"]
        return {
            "plan_id": plan.id,
            "min_ratio": min_ratio,
            "plan": fairness.shown(mine, min_ratio),
            "baseline": fairness.shown(baseline, min_ratio),
        }


@blp.route("/<int:plan_id>/what-if")
class PlanWhatIf(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(WhatIfSchema)
    @blp.response(200, WhatIfResultSchema)
    @document_errors(blp, 401, 403, 404, 422)
    def post(self, data, plan_id):
        """Run the plan's region and mode on today's records as they are and with places that do not exist
        yet (workshops, batches, welfare posts) or a longer commute limit; nothing is written but the audit."""
        changes = whatif.Changes(
            workshops=tuple(whatif.Added(**item) for item in data["workshops"]),
            batches=tuple(whatif.Added(**item) for item in data["batches"]),
            welfare_posts=tuple(whatif.Added(**item) for item in data["welfare_posts"]),
            commute_extra_km=data["commute_extra_km"],
        )
        sim = whatif.simulate(
            db.session(),
            g.user,
            plan_id,
            changes,
            matcher_config(current_app.config),
            max_laborers=current_app.config["WHATIF_MAX_LABORERS"],
            remote_addr=remote_addr(),
        )
        min_ratio = current_app.config["FAIRNESS_MIN_RATIO"]
        return {
            "plan_id": plan_id,
            "changes": changes.to_json(),
            "added": sim.added,
            "current": {"report": sim.current.report, "fairness": fairness.shown(sim.current.fairness, min_ratio)},
            "what_if": {"report": sim.what_if.report, "fairness": fairness.shown(sim.what_if.fairness, min_ratio)},
        }


# -- reviewing a finished plan before confirming it (issue 14, part 7) ------------------------------


class ReviewArgsSchema(Schema):
    village = fields.String(load_default=None, metadata={"description": "a 12-digit village code"})
    township = fields.String(load_default=None, metadata={"description": "a 9-digit township code"})
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    posting = fields.String(load_default=None, metadata={"description": "kind:id, e.g. opening:12"})


class ReviewAssignmentSchema(AssignmentSchema):
    laborer_name = fields.String(required=True)
    village_code = fields.String(required=True)
    household_code = fields.String(required=True)
    title = fields.String(allow_none=True, metadata={"description": "the target's title"})


class RemoveSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=500), metadata={"description": "why"})


class SwapSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    target_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    note = fields.String(load_default=None, validate=validate.Length(max=500), metadata={"description": "why"})


class PlanChangeSchema(Schema):
    id = fields.Integer(required=True)
    action = fields.String(required=True, metadata={"description": "removed | swapped"})
    laborer_id = fields.Integer(required=True)
    from_kind = fields.String(required=True)
    from_target_id = fields.Integer(required=True)
    to_kind = fields.String(allow_none=True)
    to_target_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    by = fields.String(allow_none=True, metadata={"description": "the username of who made the change"})
    at = fields.DateTime(required=True)
    report = fields.Dict(metadata={"description": "the plan's report after the change (on a change only)"})


def change_json(change, report: dict | None = None) -> dict:
    """A plan change as the API shows it."""
    data = {
        "id": change.id,
        "action": change.action.value,
        "laborer_id": change.laborer_id,
        "from_kind": change.from_kind,
        "from_target_id": change.from_target_id,
        "to_kind": change.to_kind,
        "to_target_id": change.to_target_id,
        "note": change.note,
        "by": change.by_user.username if change.by_user else None,
        "at": change.at,
    }
    if report is not None:
        data["report"] = report
    return data


def _filters(args) -> plan_review.ReviewFilter:
    return plan_review.ReviewFilter.parse(args["village"], args["township"], args["channel"], args["posting"])


@blp.route("/<int:plan_id>/assignments")
class PlanAssignments(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(ReviewArgsSchema, location="query")
    @blp.response(200, ReviewAssignmentSchema(many=True))
    @document_errors(blp)
    def get(self, args, plan_id):
        """A plan's proposals filtered by village, township, channel and posting, by village (audited)."""
        filters = _filters(args)
        plan = plan_review.plan_for_review(db.session(), g.user, plan_id)
        rows = list(db.session.scalars(plan_review.proposals_query(plan, filters)))
        titles = plan_review.target_titles(db.session(), [(a.channel.value, a.target_id) for a in rows])
        audit_list("list", "laborer", [a.laborer_id for a in rows], plan=plan.id, filters=filters.as_args())
        return [
            {
                "id": a.id,
                "laborer_id": a.laborer_id,
                "laborer_name": a.laborer.name,
                "village_code": a.laborer.household.village_code,
                "household_code": a.laborer.household.code,
                "kind": a.channel.value,
                "target_id": a.target_id,
                "title": titles.get((a.channel.value, a.target_id)),
                "stage": a.stage,
                "score": a.score,
                "distance_km": a.distance_km,
                "factors": [asdict(f) for f in stored_factors(a.explanation)],
            }
            for a in rows
        ]


@blp.route("/<int:plan_id>/assignments.xlsx")
class PlanAssignmentsXlsx(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(ReviewArgsSchema, location="query")
    @blp.response(200, description="an XLSX workbook: one sheet per village, ID numbers masked, no formulas")
    @document_errors(blp)
    def get(self, args, plan_id):
        """The filtered proposals as an XLSX workbook, one sheet per village for its cadre (audited)."""
        filters = _filters(args)
        plan = plan_review.plan_for_review(db.session(), g.user, plan_id)
        content, _rows = plan_review.export_xlsx(db.session(), g.user, plan, filters, remote_addr=remote_addr())
        return Response(
            content,
            mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="plan-{plan.id}-proposals.xlsx"'},
        )


@blp.route("/<int:plan_id>/assignments/<int:assignment_id>/remove")
class PlanAssignmentRemove(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(RemoveSchema)
    @blp.response(200, PlanChangeSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, plan_id, assignment_id):
        """Take one proposal out of a finished, unconfirmed plan; logged on the plan, its report recomputed."""
        change = plan_review.remove_assignment(
            db.session(), g.user, plan_id, assignment_id, note=data["note"], remote_addr=remote_addr()
        )
        return change_json(change, change.plan.report)


@blp.route("/<int:plan_id>/assignments/<int:assignment_id>")
class PlanAssignmentItem(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(SwapSchema)
    @blp.response(200, PlanChangeSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def patch(self, data, plan_id, assignment_id):
        """Move one proposal to another target, re-checked against the rules, free slots and caps left by
        the plan's other proposals; refused (409) with the reasons. Logged on the plan, report recomputed."""
        change = plan_review.swap_assignment(
            db.session(),
            g.user,
            plan_id,
            assignment_id,
            data["kind"],
            data["target_id"],
            matcher_config(current_app.config),
            note=data["note"],
            remote_addr=remote_addr(),
        )
        return change_json(change, change.plan.report)


@blp.route("/<int:plan_id>/changes")
class PlanChanges(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, PlanChangeSchema(many=True))
    @document_errors(blp)
    def get(self, plan_id):
        """The plan's change log: every proposal removed or moved before confirming, oldest first."""
        plan = plan_review.plan_for_review(db.session(), g.user, plan_id)
        return [change_json(c) for c in plan_review.change_log(db.session(), plan)]
