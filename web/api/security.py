"""Bearer-token authentication for the API: who is calling, and may their role do this."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import g, request

from ..errors import DomainError, PermissionDeniedError
from ..extensions import db
from ..models import Role, User
from ..services.accounts import user_for_token


class UnauthorizedError(DomainError):
    status = 401


def current_api_user() -> User:
    """The user of this request's bearer token; 401 without a live token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedError("a bearer token is required (POST /api/v1/auth/token)")
    user = user_for_token(db.session, token.strip())
    if user is None:
        raise UnauthorizedError("the token is unknown, expired or revoked")
    return user


def require_user(*roles: Role) -> Callable:
    """Decorator: authenticate the caller into g.user and check their role."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.user = current_api_user()
            if roles and g.user.role not in roles:
                raise PermissionDeniedError("your role may not do this")
            return view(*args, **kwargs)

        return wrapper

    return decorator


SECURITY = [{"bearerAuth": []}]
