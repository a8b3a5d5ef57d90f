"""GET /api/v1/learning and POST /api/v1/learning/decision: the learned success model's held-out figures and
the office's decision on its weight in the score (issue 14, part 6; `web.services.retention`)."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..extensions import db
from ..services import retention
from ..services.convert import matcher_config
from .common import document_errors, remote_addr
from .security import SECURITY, require_user

blp = Blueprint("api_learning", __name__, url_prefix="/learning", description="The learned success model")


class FigureSchema(Schema):
    value = fields.Float(required=True)
    low = fields.Float(required=True, metadata={"description": "95 % bootstrap interval"})
    high = fields.Float(required=True)


class EvaluationSchema(Schema):
    n_train = fields.Integer(required=True)
    n_test = fields.Integer(required=True)
    auc = fields.Dict(
        keys=fields.String(), values=fields.Nested(FigureSchema), metadata={"description": "model, hand, truth"}
    )
    brier = fields.Dict(keys=fields.String(), values=fields.Nested(FigureSchema))
    model_beats_hand = fields.Boolean(required=True)


class DecisionSchema(Schema):
    weight = fields.Float(required=True)
    model_auc = fields.Float(required=True)
    hand_auc = fields.Float(required=True)
    n_test = fields.Integer(required=True)
    decided_at = fields.DateTime(required=True)
    decided_by = fields.Function(lambda d: d.decided_by.username if d.decided_by else None, allow_none=True)


class LearningSchema(Schema):
    evaluation = fields.Nested(EvaluationSchema, allow_none=True, metadata={"description": "null: too few check-ins"})
    decision = fields.Nested(DecisionSchema, allow_none=True, metadata={"description": "null: weight 0"})


class WeightSchema(Schema):
    weight = fields.Float(required=True, validate=validate.Range(0, 1), metadata={"description": "0 to 1"})


@blp.route("")
class Learning(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.response(200, LearningSchema)
    @document_errors(blp, 401, 403)
    def get(self):
        """How the learned model does on held-out 90-day check-ins, beside the hand score; the decision in force."""
        session = db.session()
        evaluation = retention.evaluate_learned_model(session, matcher_config(current_app.config))
        return {"evaluation": evaluation, "decision": retention.learned_weight(session)}


@blp.route("/decision")
class LearningDecision(MethodView):
    decorators = [require_user("plans")]

    @blp.doc(security=SECURITY)
    @blp.arguments(WeightSchema)
    @blp.response(201, DecisionSchema)
    @document_errors(blp, 401, 403, 409)
    def post(self, data):
        """Set the learned model's weight; above 0 only while it beats the hand score (409 otherwise). Audited."""
        return retention.decide_learned_weight(
            db.session(), g.user, data["weight"], matcher_config(current_app.config), remote_addr=remote_addr()
        )
