"""/api/v1/laborers: laborers of a cadre's villages or an office's region.

ID numbers and phones are masked in lists and for everyone but the cadre of the laborer's own
village; reading one full record, and every change, goes into the audit log.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import Laborer, User
from ..services import registry, scope
from ..validation import mask_id_number, mask_phone
from .common import document_errors, list_page, remote_addr
from .schemas import LaborerListArgsSchema, LaborerPatchSchema, LaborerSchema, page_schema
from .security import SECURITY, require_user

blp = Blueprint("api_laborers", __name__, url_prefix="/laborers", description="Laborers")

LaborerPageSchema = page_schema(LaborerSchema, "LaborerPage")


class MaskedLaborer:
    """A laborer as the schema sees it, with the ID number and phone masked."""

    def __init__(self, laborer: Laborer) -> None:
        self._laborer = laborer

    def __getattr__(self, name: str):
        return getattr(self._laborer, name)

    @property
    def id_number(self) -> str:
        return mask_id_number(self._laborer.id_number)

    @property
    def phone(self) -> str | None:
        return mask_phone(self._laborer.phone)


def present(laborer: Laborer, user: User) -> Laborer | MaskedLaborer:
    """The full record for the cadre of the laborer's village; masked for everyone else."""
    return laborer if scope.reveals_identity(user, laborer) else MaskedLaborer(laborer)


@blp.route("")
class Laborers(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerListArgsSchema, location="query")
    @blp.response(200, LaborerPageSchema)
    @document_errors(blp, 401, 403)
    def get(self, args):
        """List the laborers you look after; ID numbers and phones are masked."""
        return list_page(Laborer, args, present=MaskedLaborer)

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerSchema)
    @blp.response(201, LaborerSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Register a laborer; birth date and sex come from the ID number."""
        laborer = registry.create_laborer(db.session, data, g.user, remote_addr())
        return present(laborer, g.user)


@blp.route("/<int:laborer_id>")
class LaborerById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, LaborerSchema)
    @document_errors(blp)
    def get(self, laborer_id):
        """One laborer's full record (the read is audited)."""
        laborer = registry.read_laborer(db.session, laborer_id, g.user, remote_addr())
        return present(laborer, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(LaborerPatchSchema)
    @blp.response(200, LaborerSchema)
    @document_errors(blp)
    def patch(self, changes, laborer_id):
        """Change some fields of a laborer; a new ID number re-derives birth date and sex."""
        laborer = registry.update_laborer(db.session, laborer_id, changes, g.user, remote_addr())
        return present(laborer, g.user)
