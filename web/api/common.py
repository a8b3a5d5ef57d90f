"""What every registry resource of the API shares: paging, the caller's address, error docs."""

from __future__ import annotations

import math
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint

from ..extensions import db
from ..services import registry

#: Error answers every authenticated endpoint may give (422 is added by @blp.arguments).
ERROR_RESPONSES = {
    401: "No token, or an unknown, expired or revoked one",
    403: "Your role may not do this",
    404: "No such record, or not in your scope",
}


def document_errors(blp: Blueprint, *codes: int):
    """Decorator: list the error answers in the OpenAPI document, in the one error format."""

    def decorator(view):
        for code in codes or tuple(ERROR_RESPONSES):
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def remote_addr() -> str | None:
    return request.remote_addr


def list_page(model: type, args: Mapping[str, Any], present=lambda row: row) -> dict[str, Any]:
    """One page of the caller's records of `model`, filtered by the list's query arguments."""
    per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
    filters = {k: v for k, v in args.items() if k not in ("region", "page", "per_page")}
    rows, total = registry.list_records(
        db.session,
        model,
        g.user,
        region=args.get("region"),
        filters=filters,
        page=args["page"],
        per_page=per_page,
    )
    return {
        "items": [present(row) for row in rows],
        "meta": {
            "page": args["page"],
            "per_page": per_page,
            "total": total,
            "pages": math.ceil(total / per_page) if total else 0,
        },
    }
