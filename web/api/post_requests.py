"""/api/v1/post-requests: households' requests for a welfare post with their dated receipts (issue 13, part 2).

Cadres and offices list and record them within their villages or region; offices refuse them with a
reason (assigning a welfare post through POST /api/v1/placements answers them too). The rules are
`web.services.post_requests`'.
"""

from __future__ import annotations

import math

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..clock import today
from ..extensions import db
from ..models import PostRequest, PostRequestStatus
from ..services import post_requests, versions
from ..validation import INT32_MAX, PAGE_MAX
from .common import audit_list, document_errors, remote_addr
from .schemas import RECORD_ID, PageMetaSchema, in_day_range
from .security import SECURITY, require_user

blp = Blueprint(
    "api_post_requests", __name__, url_prefix="/post-requests", description="Requests for welfare posts (receipts)"
)


class PostRequestSchema(Schema):
    id = fields.Integer(dump_only=True)
    receipt_no = fields.String(dump_only=True, metadata={"description": "county code, year, sequence"})
    laborer_id = fields.Integer(required=True, validate=RECORD_ID)
    household_id = fields.Integer(dump_only=True)
    requested_on = fields.Date(
        load_default=None, validate=in_day_range, metadata={"description": "default: today; not in the future"}
    )
    due_on = fields.Date(dump_only=True, metadata={"description": "answered on time when answered by this day"})
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=post_requests.NOTE_MAX))
    status = fields.Enum(PostRequestStatus, by_value=True, dump_only=True)
    is_overdue = fields.Method("_overdue", dump_only=True)
    recorded_by_id = fields.Integer(dump_only=True, allow_none=True)
    recorded_at = fields.DateTime(dump_only=True)
    overdue_on = fields.Date(dump_only=True, allow_none=True, metadata={"description": "the day the tick marked it"})
    answered_on = fields.Date(dump_only=True, allow_none=True)
    answered_by_id = fields.Integer(dump_only=True, allow_none=True)
    is_on_time = fields.Boolean(dump_only=True, allow_none=True)
    placement_id = fields.Integer(dump_only=True, allow_none=True)
    refusal_reason = fields.String(dump_only=True, allow_none=True)

    def _overdue(self, row: PostRequest) -> bool:
        return row.status is PostRequestStatus.PENDING and row.due_on < today()


class PostRequestListArgsSchema(Schema):
    status = fields.Enum(PostRequestStatus, by_value=True, load_default=None)
    overdue = fields.Boolean(load_default=False, metadata={"description": "only those open past their due day"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=INT32_MAX),
        metadata={"description": "capped at the server's API_PAGE_SIZE_MAX (default 200)"},
    )


class PostRequestPageSchema(Schema):
    items = fields.List(fields.Nested(PostRequestSchema), required=True)
    meta = fields.Nested(PageMetaSchema, required=True)


class RefusalSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=post_requests.NOTE_MAX))


@blp.route("")
class PostRequests(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(PostRequestListArgsSchema, location="query")
    @blp.response(200, PostRequestPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """The requests in your villages or region, oldest first; the read is audited."""
        session = db.session()
        status = args["status"].value if args["status"] else None
        query = post_requests.requests_query(g.user, status=status, overdue=args["overdue"])
        per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
        total = versions.count_rows(session, query)
        rows = session.scalars(query.limit(per_page).offset((args["page"] - 1) * per_page)).all()
        audit_list("list", "post_request", [r.id for r in rows], filters={"status": status, "overdue": args["overdue"]})
        meta = {"page": args["page"], "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)}
        return {"items": rows, "meta": meta}

    @blp.doc(security=SECURITY)
    @blp.arguments(PostRequestSchema)
    @blp.response(201, PostRequestSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data):
        """Record a household's request for a welfare post (by one of its laborers); it gets its receipt."""
        return post_requests.record_request(
            db.session(),
            g.user,
            data["laborer_id"],
            requested_on=data["requested_on"],
            note=data["note"],
            remote_addr=remote_addr(),
        )


@blp.route("/<int:request_id>")
class PostRequestItem(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, PostRequestSchema)
    @document_errors(blp)
    def get(self, request_id):
        """One request and its receipt; the read is audited."""
        return post_requests.read_request(db.session(), g.user, request_id, remote_addr())


@blp.route("/<int:request_id>/refuse")
class PostRequestRefusal(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(RefusalSchema)
    @blp.response(200, PostRequestSchema)
    @document_errors(blp, 401, 403, 404, 409)
    def post(self, data, request_id):
        """Refuse a request with a reason (offices only); the refusal answers it."""
        return post_requests.refuse(db.session(), g.user, request_id, data["reason"], remote_addr=remote_addr())
