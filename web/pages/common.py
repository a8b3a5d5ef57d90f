"""Plumbing shared by the role pages (cadre, employer, office): the role gate (which asks the access
policy, `web.services.scope`), pagination, domain errors shown next to form fields, and the one way
a page saves a form or makes an offer."""

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2 import pass_context
from sqlalchemy import Select

from .. import unit_of_work
from ..errors import DomainError, PermissionDeniedError, ValidationError
from ..extensions import db, login_manager
from ..labels import figure, joined, km, label, lang, local_day, local_time, report_cell, sentences, translated, yuan
from ..models import Placement
from ..services import convert, disclosure, offers, registry, scope, versions
from ..services.accounts import audit_read
from ..validation import parse_page

PER_PAGE = 20


def require_page(action: str) -> None:
    """403, in the page's language, unless the policy lets the current user's role do `action`."""
    if not scope.may(current_user, action):
        raise PermissionDeniedError(_("Your role may not see this page."))


def _per_request(words: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose answer depends on the request's language: Jinja must not fold it into a constant
    when a template applies it to a literal (`'greedy'|label` would keep the first request's language)."""

    @pass_context
    def filter_(_context: Any, value: Any, *args: Any) -> Any:
        return words(value, *args)

    filter_.__name__ = words.__name__
    return filter_


def role_blueprint(name: str, action: str) -> Blueprint:
    """A blueprint whose every view needs a logged-in user whom the policy's gate `action` lets in
    (a key of `web.services.scope.GATES`; 403 for the other roles)."""
    bp = Blueprint(name, __name__.rsplit(".", 1)[0] + "." + name, url_prefix=f"/{name}")

    @bp.before_request
    def gate():
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        require_page(action)
        return None

    bp.add_app_template_filter(_per_request(label), "label")
    bp.add_app_template_filter(yuan, "yuan")
    bp.add_app_template_filter(km, "km")
    bp.add_app_template_filter(figure, "figure")
    bp.add_app_template_global(report_cell, "report_cell")
    bp.add_app_template_filter(_per_request(sentences), "sentences")
    bp.add_app_template_global(lang, "lang")
    bp.add_app_template_global(joined, "joined")
    bp.add_app_template_global(local_time, "local_time")
    bp.add_app_template_global(local_day, "local_day")
    bp.add_app_template_global(disclosure.mask_id_number, "mask_id")
    bp.add_app_template_global(disclosure.mask_phone, "mask_phone")
    return bp


# -- pagination -----------------------------------------------------------------------------------


@dataclass
class Page:
    """One page of a list and what the pager needs."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def page_number() -> int:
    """The ?page= argument (1 when absent); 422 naming it when not a page number."""
    try:
        return parse_page(request.args.get("page"))
    except ValueError as exc:
        raise ValidationError.on("page", str(exc)) from None


def paginate_newest(model: type, query: Select, place: Select, per_page: int = PER_PAGE) -> Page:
    """One page of `query`'s records of `model`, newest first; `place` is `query` before filters on
    the records' own columns (`registry.page_by_id`, which reads a small region's through its indexes)."""
    number = page_number()
    rows, total = registry.page_by_id(
        db.session(), model, query, place, page=number, per_page=per_page, newest_first=True
    )
    return Page(rows, total, number, per_page)


def paginate(query: Select, per_page: int = PER_PAGE, *, scalars: bool = True) -> Page:
    """Run one page of `query` (already ordered) and count the whole."""
    number = page_number()
    total = versions.count_rows(db.session(), query)
    limited = query.limit(per_page).offset((number - 1) * per_page)
    rows = db.session.scalars(limited).all() if scalars else db.session.execute(limited).all()
    return Page(list(rows), total, number, per_page)


# -- errors ---------------------------------------------------------------------------------------


def form_page(template: str, form: FlaskForm, **context: Any) -> tuple[str, int]:
    """A form's page: 422 when a submitted form was refused (its fields say why), else 200."""
    refused = request.method == "POST" and bool(form.errors)
    return render_template(template, form=form, **context), 422 if refused else 200


def show_errors(form: FlaskForm | None, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors next to the form's fields; the rest goes into a flash.

    A refused request keeps nothing, even when it answers with a redirect.
    """
    unit_of_work.discard()
    placed = False
    for name, messages in error.fields.items():
        field_name = (aliases or {}).get(name, name)
        field = getattr(form, field_name, None) if form is not None else None
        if field is None:
            continue
        if not isinstance(field.errors, list):
            field.errors = list(field.errors)
        field.errors.extend(translated(str(m)) for m in messages)
        placed = True
    if placed:
        flash(_("Please correct the fields marked below."), "error")
    else:
        flash(offer_message(error), "error")
        if form is not None:  # refused as a whole: the page still answers 422
            form.form_errors.append(offer_message(error))


def offer_message(error: DomainError) -> str:
    """A refusal in the page's language; the matcher's reasons come in both as 'zh / en'.

    A refusal that names laborers (a plan whose people took other work meanwhile) lists them after it.
    """
    reasons = error.fields.get("target")
    if reasons:
        parts = [r.split(" / ", 1) for r in reasons]
        return "; ".join(p[0] if lang() == "zh" or len(p) == 1 else p[1] for p in parts)
    names = error.fields.get("laborers")
    if names:
        return f"{translated(error.message)}: {', '.join(names)}"
    return translated(error.message)


def save_from_form(form: FlaskForm, call: Callable[[], Any], *, aliases: dict[str, str] | None = None) -> Any | None:
    """Run a service call for a submitted form; if refused, show why next to the fields."""
    try:
        saved = call()
    except DomainError as error:
        show_errors(form, error, aliases)
        return None
    return saved


def try_offer(
    laborer_id: int, kind: str, target_id: int, *, rematch: bool = False, refer: bool = False
) -> Placement | None:
    """Make an offer (or, `refer`, a referral) from a page: the placement, or None once the refusal is
    flashed (404s propagate)."""
    try:
        placement = offers.make_offer(
            db.session(),
            current_user,
            laborer_id,
            kind,
            target_id,
            convert.matcher_config(current_app.config),
            max_live_offers=current_app.config["MAX_LIVE_OFFERS"],
            rematch=rematch,
            refer=refer,
            remote_addr=remote_addr(),
        )
    except DomainError as error:
        if error.status == 404:
            raise
        show_errors(None, error)
        return None
    return placement


def offer_refusal(laborer_id: int, *, rematch: bool = False) -> str | None:
    """Why the laborer may take no new offer now, in the page's language; None when they may.

    Pages show it in place of the offer buttons, rather than offering what would be refused.
    """
    refusals = offers.laborer_refusals(
        db.session(), [laborer_id], max_live_offers=current_app.config["MAX_LIVE_OFFERS"], rematch=rematch
    )
    return translated(refusals[laborer_id]) if laborer_id in refusals else None


def remote_addr() -> str | None:
    return request.remote_addr


def audit_list(action: str, subject: str, ids: list[Any], **detail: Any) -> None:
    """One audit row for a page that lists people's records (who, which filter, how many, which ids)."""
    audit_read(db.session(), action, user=current_user, subject=subject, ids=ids, remote_addr=remote_addr(), **detail)
