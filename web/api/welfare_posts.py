"""/api/v1/welfare-posts: public welfare posts (公益岗位), created and changed by offices."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import WelfarePost
from ..services import registry
from .common import document_errors, list_page, remote_addr
from .schemas import (
    PostingListArgsSchema,
    WelfarePostPatchSchema,
    WelfarePostSchema,
    page_schema,
)
from .security import SECURITY, require_user

blp = Blueprint("api_welfare_posts", __name__, url_prefix="/welfare-posts", description="Public welfare posts")

WelfarePostPageSchema = page_schema(WelfarePostSchema, "WelfarePostPage")


@blp.route("")
class WelfarePosts(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(PostingListArgsSchema, location="query")
    @blp.response(200, WelfarePostPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """List the welfare posts you may see (filter by region prefix and status)."""
        return list_page(WelfarePost, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(WelfarePostSchema)
    @blp.response(201, WelfarePostSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Create a welfare post of a village or township (offices only)."""
        return registry.create_welfare_post(db.session(), data, g.user, remote_addr())


@blp.route("/<int:post_id>")
class WelfarePostById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, WelfarePostSchema)
    @document_errors(blp)
    def get(self, post_id):
        """One welfare post."""
        return registry.get_record(db.session(), WelfarePost, post_id, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(WelfarePostPatchSchema)
    @blp.response(200, WelfarePostSchema)
    @document_errors(blp)
    def patch(self, changes, post_id):
        """Change some fields of a welfare post (offices only)."""
        return registry.update_welfare_post(db.session(), post_id, changes, g.user, remote_addr())
