"""/api/v1/openings: work nearby, posted by employers (their own) and offices (their region)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import Opening
from ..services import registry
from .common import document_errors, list_page, remote_addr
from .schemas import OpeningPatchSchema, OpeningSchema, PostingListArgsSchema, page_schema
from .security import SECURITY, require_user

blp = Blueprint("api_openings", __name__, url_prefix="/openings", description="Openings")

OpeningPageSchema = page_schema(OpeningSchema, "OpeningPage")


@blp.route("")
class Openings(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(PostingListArgsSchema, location="query")
    @blp.response(200, OpeningPageSchema)
    @document_errors(blp, 401)
    def get(self, args):
        """List the openings you may see (filter by region prefix and status)."""
        return list_page(Opening, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(OpeningSchema)
    @blp.response(201, OpeningSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Post an opening; without lat/lon it is at the employer's site."""
        return registry.create_opening(db.session(), data, g.user, remote_addr())


@blp.route("/<int:opening_id>")
class OpeningById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, OpeningSchema)
    @document_errors(blp)
    def get(self, opening_id):
        """One opening."""
        return registry.get_record(db.session(), Opening, opening_id, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(OpeningPatchSchema)
    @blp.response(200, OpeningSchema)
    @document_errors(blp, 401, 403, 404, 429)
    def patch(self, changes, opening_id):
        """Change some fields of an opening; an employer moves it at most POSTING_MOVES_PER_DAY times a day."""
        return registry.update_opening(db.session(), opening_id, changes, g.user, remote_addr())
