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
from ..services.accounts import audit_read

#: Error answers every authenticated endpoint may give (422 is added by @blp.arguments).
ERROR_RESPONSES = {
    401: "No token, or an unknown, expired or revoked one",
    403: "Your role may not do this",
    404: "No such record, or not in your scope",
    429: "Asked too often lately (the field named says what)",
}


def document_errors(blp: Blueprint, *codes: int):
    """Decorator: list the error answers in the OpenAPI document, in the one error format."""

    def decorator(view):
        for code in codes or (401, 403, 404):
            view = blp.alt_response(code, response=HTTPStatus(code).name)(view)
        return view

    return decorator


def remote_addr() -> str | None:
    return request.remote_addr


def list_page(
    model: type[Any], args: Mapping[str, Any], present=lambda row: row, *, audited: bool = False
) -> dict[str, Any]:
    """One page of the caller's records of `model`, filtered by the list's query arguments; a list
    of people is `audited`: one row naming the filter, how many rows and which ids."""
    per_page = min(args["per_page"], current_app.config["API_PAGE_SIZE_MAX"])
    filters = {k: v for k, v in args.items() if k not in ("region", "page", "per_page")}
    rows, total = registry.list_records(
        db.session(),
        model,
        g.user,
        region=args.get("region"),
        filters=filters,
        page=args["page"],
        per_page=per_page,
    )
    if audited:
        audit_list("list", model.__tablename__, [row.id for row in rows], filters=args)
    return {
        "items": [present(row) for row in rows],
        "meta": {
            "page": args["page"],
            "per_page": per_page,
            "total": total,
            "pages": math.ceil(total / per_page) if total else 0,
        },
    }


def audit_list(action: str, subject: str, ids: list[Any], **detail: Any) -> None:
    """One audit row for an answer that lists people's records (who, which filter, how many, which ids);
    the request's unit of work keeps it with the answer."""
    audit_read(db.session(), action, user=g.user, subject=subject, ids=ids, remote_addr=remote_addr(), **detail)
