"""Bearer-token authentication for the API: who is calling, and may their role do this (asked of
the access policy, `web.services.scope`)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request

from ..errors import DomainError
from ..extensions import db
from ..models import User
from ..services import scope
from ..services.accounts import user_for_token


class UnauthorizedError(DomainError):
    status = 401


def current_api_user() -> User:
    """The user of this request's bearer token; 401 without a live token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("a bearer token is required (POST /api/v1/auth/token)")
    user = user_for_token(db.session(), token.strip())
    if user is None:
        raise UnauthorizedError("the token is unknown, expired or revoked")
    return user


def require_user(action: str | None = None) -> Callable:
    """Decorator: authenticate the caller into g.user; with `action` (a gate of the policy), 403
    unless their role may do it."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.user = current_api_user()
            if action is not None:
                scope.require(g.user, action)
            return view(*args, **kwargs)

        return wrapper

    return decorator


SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
