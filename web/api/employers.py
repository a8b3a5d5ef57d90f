"""/api/v1/employers: offices register employers; an employer keeps its own record."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from ..extensions import db
from ..models import Employer
from ..services import registry
from .common import document_errors, list_page, remote_addr
from .schemas import EmployerListArgsSchema, EmployerPatchSchema, EmployerSchema, page_schema
from .security import SECURITY, require_user

blp = Blueprint("api_employers", __name__, url_prefix="/employers", description="Employers")

EmployerPageSchema = page_schema(EmployerSchema, "EmployerPage")


@blp.route("")
class Employers(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.arguments(EmployerListArgsSchema, location="query")
    @blp.response(200, EmployerPageSchema)
    @document_errors(blp, 401)
    def get(self, args):
        """List the employers you may see (an employer sees only itself)."""
        return list_page(Employer, args)

    @blp.doc(security=SECURITY)
    @blp.arguments(EmployerSchema)
    @blp.response(201, EmployerSchema)
    @document_errors(blp, 401, 403)
    def post(self, data):
        """Register an employer of your region (offices only)."""
        return registry.create_employer(db.session(), data, g.user, remote_addr())


@blp.route("/<int:employer_id>")
class EmployerById(MethodView):
    decorators = [require_user()]

    @blp.doc(security=SECURITY)
    @blp.response(200, EmployerSchema)
    @document_errors(blp)
    def get(self, employer_id):
        """One employer."""
        return registry.get_record(db.session(), Employer, employer_id, g.user)

    @blp.doc(security=SECURITY)
    @blp.arguments(EmployerPatchSchema)
    @blp.response(200, EmployerSchema)
    @document_errors(blp)
    def patch(self, changes, employer_id):
        """Change some fields of an employer (only an office marks a workshop resumed)."""
        return registry.update_employer(db.session(), employer_id, changes, g.user, remote_addr())
