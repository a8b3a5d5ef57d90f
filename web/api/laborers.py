"""/api/v1/laborers: laborers of a cadre's villages or an office's region.

What a list and a single read show follows `services.disclosure`: a list masks ID numbers (first
6 and last 1 characters) and phones and carries no birth date; one record read on its own shows them
in full. Reads (lists included) and every change go into the audit log.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import Laborer, User
from ..services import disclosure, registry
from .common import document_errors, list_page, remote_addr
from .schemas import (
    LaborerListArgsSchema,
    LaborerListItemSchema,
    LaborerPatchSchema,
    LaborerSchema,
    page_schema,
)
from .security import SECURITY, require_user

blp = Blueprint("api_laborers", __name__, url_prefix="/laborers", description="Laborers")

LaborerPageSchema = page_schema(LaborerListItemSchema, "LaborerPage")


class ShownLaborer:
    """A laborer as the schema sees it: the identifying fields as the policy shows them to the user."""

    def __init__(self, laborer: Laborer, shown: disclosure.Identity) -> None:
        self._laborer = laborer
        self.id_number = shown.id_number
        self.birth_on = shown.birth_on
        self.phone = shown.phone
        self.age = shown.age

    def __getattr__(self, name: str):
        return getattr(self._laborer, name)


def present(laborer: Laborer, user: User, view: disclosure.View = disclosure.View.RECORD) -> ShownLaborer:
    """The laborer as `user` may see it in this view (a single record unless told otherwise)."""
    return ShownLaborer(laborer, disclosure.identity(user, laborer, view))


def present_in_list(laborer: Laborer) -> ShownLaborer:
    """A laborer as one row of a list: masked ID and phone, no birth date."""
    return present(laborer, g.user, disclosure.View.LIST)


@blp.route("")
class Laborers(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerListArgsSchema, location="query")
    @blp.response(200, LaborerPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """List the laborers you look after; ID numbers and phones are masked, no birth dates (audited)."""
        return list_page(Laborer, args, present=present_in_list, audited=True)

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerSchema)
    @blp.response(201, LaborerSchema)
    @document_errors(blp, 401, 403, 429)
    def post(self, data):
        """Register a laborer; birth date and sex come from the ID number."""
        laborer = registry.create_laborer(db.session(), data, g.user, remote_addr())
        return present(laborer, g.user)


@blp.route("/<int:laborer_id>")
class LaborerById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, LaborerSchema)
    @document_errors(blp)
    def get(self, laborer_id):
        """One laborer's full record (the read is audited)."""
        laborer = registry.read_laborer(db.session(), laborer_id, g.user, remote_addr())
        return present(laborer, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerPatchSchema)
    @blp.response(200, LaborerSchema)
    @document_errors(blp, 401, 403, 404, 429)
    def patch(self, changes, laborer_id):
        """Change some fields of a laborer; a new ID number re-derives birth date and sex."""
        laborer = registry.update_laborer(db.session(), laborer_id, changes, g.user, remote_addr())
        return present(laborer, g.user)
