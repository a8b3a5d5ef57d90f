"""GET /api/v1/stats: a region's figures on a day (web.services.stats), within the caller's scope."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..clock import today
from ..extensions import db
from ..services.scope import statistics_region
from ..services.stats import region_stats
from .schemas import in_day_range
from .security import SECURITY, require_user

blp = Blueprint("api_stats", __name__, url_prefix="/stats", description="Figures that add up")


class StatsQuerySchema(Schema):
    region = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{2}([0-9]{2}([0-9]{2}([0-9]{3}([0-9]{3})?)?)?)?$"),
        metadata={"description": "Region code (2, 4, 6, 9 or 12 digits); default: your scope"},
    )
    on = fields.Date(
        load_default=None,
        validate=in_day_range,
        metadata={"description": "Day (YYYY-MM-DD, 1900–2100); default today"},
    )


class StatsSchema(Schema):
    region_code = fields.String(required=True)
    region_name = fields.String(allow_none=True)
    on = fields.Date(required=True)
    enterprises = fields.Integer()
    enterprises_resumed = fields.Integer()
    enterprise_workers = fields.Integer()
    enterprise_poor_workers = fields.Integer()
    workshops = fields.Integer()
    workshops_resumed = fields.Integer()
    workshops_recognised = fields.Integer()
    workshop_workers = fields.Integer()
    workshop_poor_workers = fields.Integer()
    laborers_at_work = fields.Integer()
    at_work_opening = fields.Integer()
    at_work_batch = fields.Integer()
    at_work_welfare_post = fields.Integer()
    poor_at_work = fields.Integer()
    poor_at_work_opening = fields.Integer()
    poor_at_work_batch = fields.Integer()
    poor_at_work_welfare_post = fields.Integer()
    poor_at_work_year_before = fields.Integer()
    poor_at_work_change_pct = fields.Float(allow_none=True)
    poor_households = fields.Integer()
    households_without_work = fields.Integer()
    welfare_posts = fields.Integer()
    welfare_posts_filled = fields.Integer()


@blp.route("")
class Stats(MethodView):
    decorators = [require_user("stats")]

    @blp.doc(security=SECURITY)
    @blp.arguments(StatsQuerySchema, location="query")
    @blp.response(200, StatsSchema)
    @blp.alt_response(403, description="Employers do not read statistics")
    @blp.alt_response(404, description="No such region, or outside your scope")
    def get(self, args):
        """Figures of a region on a day: offices within their region, cadres for their villages."""
        region = statistics_region(g.user, args["region"])
        stats = region_stats(
            db.session(),
            region,
            args["on"] or today(),
            current_app.config["WORKSHOP_RECOGNITION_MIN_POOR"],
        )
        return stats.as_dict()
