"""GET /api/v1/messages and POST /api/v1/messages/read: the caller's inbox (issue 13, part 6)."""

from __future__ import annotations

import math

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ..extensions import db
from ..labels import message_text
from ..services import inbox
from ..validation import INT32_MAX, PAGE_MAX
from .schemas import PageMetaSchema
from .security import SECURITY, require_user

blp = Blueprint("api_messages", __name__, url_prefix="/messages", description="What the clocks told you")


class MessageSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    text = fields.Method("_text", metadata={"description": "The message in the caller's language"})
    params = fields.Dict()
    entity_type = fields.String(allow_none=True)
    entity_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True)

    def _text(self, message) -> str:
        return message_text(message)


class MessageListArgsSchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=INT32_MAX),
        metadata={"description": "capped at the server's API_PAGE_SIZE_MAX (default 200)"},
    )


class MessageListSchema(Schema):
    unread = fields.Integer(required=True)
    items = fields.List(fields.Nested(MessageSchema), required=True)
    meta = fields.Nested(PageMetaSchema, required=True)


class ReadSchema(Schema):
    ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=INT32_MAX)),
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"description": "Messages to mark read; omit to mark all read"},
    )


class ReadResultSchema(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


@blp.route("")
class Messages(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(MessageListArgsSchema, location="query")
    @blp.response(200, MessageListSchema)
    def get(self, args):
        """The caller's messages, newest first, and how many are unread."""
        session = db.session()
        per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
        rows, total = inbox.messages_page(session, g.user, args["page"], per_page)
        meta = {"page": args["page"], "per_page": per_page, "total": total, "pages": math.ceil(total / per_page)}
        return {"unread": inbox.unread_count(session, g.user), "items": rows, "meta": meta}


@blp.route("/read")
class ReadMessages(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(ReadSchema)
    @blp.response(200, ReadResultSchema)
    def post(self, args):
        """Mark the caller's messages read (others' ids are ignored)."""
        session = db.session()
        marked = inbox.mark_read(session, g.user, args["ids"])
        return {"marked": marked, "unread": inbox.unread_count(session, g.user)}
