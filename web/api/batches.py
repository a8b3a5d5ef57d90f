"""/api/v1/batches: point-to-point transport batches with their pickup points."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import TransportBatch
from ..services import registry
from .common import document_errors, list_page, remote_addr
from .schemas import BatchListArgsSchema, BatchPatchSchema, BatchSchema, page_schema
from .security import SECURITY, require_user

blp = Blueprint("api_batches", __name__, url_prefix="/batches", description="Point-to-point transport batches")

BatchPageSchema = page_schema(BatchSchema, "BatchPage")


@blp.route("")
class Batches(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(BatchListArgsSchema, location="query")
    @blp.response(200, BatchPageSchema)
    @document_errors(blp, 401)
    def get(self, args):
        """List the batches you may see; `region` also matches where a coach stops."""
        return list_page(TransportBatch, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(BatchSchema)
    @blp.response(201, BatchSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Post a batch with at least one pickup point; it belongs to the employer's county
        unless `region_code` says otherwise."""
        return registry.create_batch(db.session(), data, g.user, remote_addr())


@blp.route("/<int:batch_id>")
class BatchById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, BatchSchema)
    @document_errors(blp)
    def get(self, batch_id):
        """One batch with its pickup points."""
        return registry.get_record(db.session(), TransportBatch, batch_id, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(BatchPatchSchema)
    @blp.response(200, BatchSchema)
    @document_errors(blp, 401, 403, 404, 429)
    def patch(self, changes, batch_id):
        """Change some fields of a batch; `pickup_points` replaces the whole list (moves are limited)."""
        return registry.update_batch(db.session(), batch_id, changes, g.user, remote_addr())
