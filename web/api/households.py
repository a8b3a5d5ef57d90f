"""/api/v1/households: households of a cadre's villages or an office's region."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import Household
from ..services import registry
from .common import document_errors, list_page, remote_addr
from .schemas import HouseholdListArgsSchema, HouseholdPatchSchema, HouseholdSchema, page_schema
from .security import SECURITY, require_user

blp = Blueprint("api_households", __name__, url_prefix="/households", description="Households")

HouseholdPageSchema = page_schema(HouseholdSchema, "HouseholdPage")


@blp.route("")
class Households(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(HouseholdListArgsSchema, location="query")
    @blp.response(200, HouseholdPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """List the households you look after (filter by region prefix and poverty status; audited)."""
        return list_page(Household, args, audited=True)

    @blp.doc(security=SECURITY)
    @blp.arguments(HouseholdSchema)
    @blp.response(201, HouseholdSchema)
    @document_errors(blp, 401, 403, 429)
    def post(self, data):
        """Register a household; without lat/lon it stands at its village's point."""
        return registry.create_household(db.session(), data, g.user, remote_addr())


@blp.route("/<int:household_id>")
class HouseholdById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, HouseholdSchema)
    @document_errors(blp)
    def get(self, household_id):
        """One household (the read is audited)."""
        return registry.read_household(db.session(), household_id, g.user, remote_addr())

    @blp.doc(security=SECURITY)
    @blp.arguments(HouseholdPatchSchema)
    @blp.response(200, HouseholdSchema)
    @document_errors(blp, 401, 403, 404, 429)
    def patch(self, changes, household_id):
        """Change some fields of a household."""
        return registry.update_household(db.session(), household_id, changes, g.user, remote_addr())
