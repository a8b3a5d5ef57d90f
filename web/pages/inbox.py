"""The inbox (issue 13, part 6): what the clocks and flags told the signed-in user, newest first.

Every role has one; the navigation shows the unread count (`unread_messages`, a template global). A
message is rendered in the reader's language from its kind and parameters (`labels.message_text`) and
links to the record it is about when the reader's role has a page for it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..extensions import db
from ..labels import message_text
from ..models import Message
from ..services import inbox
from .common import paginate

bp = Blueprint("inbox", __name__, url_prefix="/inbox")

#: The page of each record kind a message links to, by role ({role} is the reader's blueprint).
LINKS: dict[Any, tuple[str, str | None]] = {
    "placement": ("{role}.placement", "placement_id"),
    # Welfare posts (offices only hear of them): a vacated post's candidates, a term's renewal or end.
    ("welfare_post_vacated", "welfare_post"): ("{role}.welfare_reassign", "post_id"),
    "welfare_post": ("{role}.welfare_terms", "post_id"),
    "post_request": ("{role}.post_request", "request_id"),
    "transport_batch": ("{role}.handover", "batch_id"),
    "follow_up": ("{role}.follow_up", "follow_up_id"),
    "verification": ("{role}.verifications", None),
}


def message_link(message: Message) -> str | None:
    """Where the message's record is shown to the reader, if anywhere."""
    link = LINKS.get((message.kind, message.entity_type)) or LINKS.get(message.entity_type or "")
    if link is None or message.entity_id is None:
        return None
    endpoint, argument = link
    endpoint = endpoint.format(role=current_user.role.value)
    if endpoint not in current_app.view_functions:  # this role has no page for that kind of record
        return None
    values: dict[str, Any] = {argument: message.entity_id} if argument else {}
    return url_for(endpoint, **values)


@bp.get("")
@login_required
def index():
    """The user's messages, newest first; unread ones marked."""
    page = paginate(inbox.messages_of(db.session(), current_user))
    return render_template("inbox/index.html", page=page, text_of=message_text, link_of=message_link)


@bp.post("/read")
@login_required
def read():
    """Mark messages read: the ids posted, or all of them."""
    ids = [int(value) for value in request.form.getlist("id") if value.isdigit()]
    inbox.mark_read(db.session(), current_user, ids or None)
    return redirect(url_for("inbox.index"))


def install(app) -> None:
    """The unread count in every page's navigation (one indexed count per page view)."""

    @app.context_processor
    def unread_messages():
        if not getattr(current_user, "is_authenticated", False):
            return {"unread_messages": 0}
        return {"unread_messages": inbox.unread_count(db.session(), current_user)}
