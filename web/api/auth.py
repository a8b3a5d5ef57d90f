"""POST /api/v1/auth/token: trade a username and password for a bearer token."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from .. import unit_of_work
from ..extensions import db, limiter
from ..services.accounts import audit, authenticate, issue_token, revoke_token
from .security import SECURITY, UnauthorizedError, current_api_user

blp = Blueprint("api_auth", __name__, url_prefix="/auth", description="Bearer tokens")


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=256))


class TokenSchema(Schema):
    token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    role = fields.String(required=True)


@blp.route("/token")
class Token(MethodView):
    decorators = [limiter.limit("20/minute")]

    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    def post(self, data):
        """Issue a bearer token that expires (API_TOKEN_LIFETIME_S)."""
        user = authenticate(db.session(), data["username"], data["password"], remote_addr=request.remote_addr)
        if user is None:
            audit(
                db.session(),
                "login_failed",
                username=data["username"],
                remote_addr=request.remote_addr,
                via="api",
            )
            unit_of_work.keep()  # the failed try counts towards the lock-out although the answer is 401
            raise UnauthorizedError("wrong username or password")
        token, row = issue_token(db.session(), user, current_app.config["API_TOKEN_LIFETIME_S"])
        audit(db.session(), "login", user=user, remote_addr=request.remote_addr, via="api")
        return {
            "token": token,
            "token_type": "bearer",
            "expires_at": row.expires_at,
            "role": user.role.value,
        }

    @blp.doc(security=SECURITY)
    @blp.response(204)
    @blp.alt_response(401, description="No live token")
    def delete(self):
        """Revoke the bearer token of this request (log out of the API)."""
        user = current_api_user()
        token = request.headers["Authorization"].partition(" ")[2].strip()
        revoke_token(db.session(), token)
        audit(db.session(), "logout", user=user, remote_addr=request.remote_addr, via="api")
