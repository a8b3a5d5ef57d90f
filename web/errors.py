"""Domain errors raised by services; views and the API translate them into answers.

A message is an English msgid of the catalog: a fixed string, or a `lazy_gettext` with named
parameters (`_l("plan %(n)s was already confirmed", n=7)`), so that it is rendered in the locale of
the request that shows it, page or API (`DomainError.text`, `DomainError.field_texts`). The console
(``jiuye`` commands) says it in English (`DomainError.english`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Self

from babel.lists import format_list
from flask import has_request_context
from flask_babel import LazyString, force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import Schema
from marshmallow import fields as ma_fields


def words(message: Any) -> str:
    """A message in the current request's language: a lazy string rendered, a msgid looked up."""
    if message is None:
        return ""
    if isinstance(message, str):
        return _(message) if message and has_request_context() else message
    return str(message)


def in_language(zh: str, en: str) -> LazyString:
    """A sentence the matcher says in both languages, rendered in the request's (English outside one)."""
    return LazyString(lambda: zh if has_request_context() and str(get_locale()) == "zh" else en)


class DomainError(Exception):
    """Base of every error a service raises on purpose; carries its HTTP status."""

    status = 400

    def __init__(self, message: Any, fields: Mapping[str, list[Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})

    def __str__(self) -> str:
        return str(self.message)

    def text(self) -> str:
        """The message in the request's language."""
        return words(self.message)

    def english(self) -> str:
        """The message in English, the console's language (``jiuye`` commands), whatever the deployment's."""
        with force_locale("en"):
            return str(self.message)

    def field_texts(self) -> dict[str, list[str]]:
        """Each field's messages in the request's language."""
        return {name: [words(m) for m in messages] for name, messages in self.fields.items()}

    @classmethod
    def on(cls, field: str, message: Any) -> Self:
        """One field, one message."""
        return cls.on_fields({field: [message]})

    @classmethod
    def on_fields(cls, fields: Mapping[str, list[Any]]) -> Self:
        """Messages per field; the error's own message is the first field's first (``field: message``)."""
        first = next(iter(fields))
        return cls(LazyString(_field_message, first, fields[first][0]), fields)


def _field_message(field: str, message: Any) -> str:
    return f"{field}: {words(message)}"


class ValidationError(DomainError):
    """Input that breaks a rule; `fields` maps each field to its messages."""

    status = 422


def record_name(record: str) -> str:
    """What a kind of record is called in the request's language (its table name when unnamed)."""
    from .labels import entity_label  # the one home of display names; imported when shown

    return entity_label(record) if has_request_context() else record


def label_of(code: str) -> str:
    """A stored code's display name in the request's language (the code itself outside a request)."""
    from .labels import label

    return label(code) if has_request_context() else code


def labels_or(codes: Iterable[str]) -> str:
    """Stored codes' display names as one list of alternatives in the request's language
    ("boarding or cancelled", "上车中或已取消"; the codes themselves outside a request)."""
    names = [label_of(code) for code in codes]
    return format_list(names, style="or", locale=str(get_locale()) if has_request_context() else "en")


class NotFoundError(DomainError):
    """No such record, or one the user may not see (the two are indistinguishable on purpose)."""

    status = 404

    @classmethod
    def of(cls, record: str, record_id: Any) -> NotFoundError:
        """ "laborer 999999 does not exist", in the request's language."""
        return cls(_l("%(record)s %(id)s does not exist", record=LazyString(record_name, record), id=record_id))


class PermissionDeniedError(DomainError):
    """The user is known but their role may not do this."""

    status = 403


class ConflictError(DomainError):
    """The request clashes with the current state (a full opening, a plan confirmed twice)."""

    status = 409


class RateLimitedError(DomainError):
    """The user asked for this too often lately; `fields` names what was limited."""

    status = 429


class AlreadySeededError(DomainError):
    """The database already holds the data a seed command would add."""

    status = 409


class ErrorBodySchema(Schema):
    """What an error answer holds (documented in the OpenAPI document)."""

    status = ma_fields.Integer(required=True)
    message = ma_fields.String(required=True)
    fields_ = ma_fields.Dict(  # `fields` would hide Schema.fields
        keys=ma_fields.String(),
        values=ma_fields.Raw(),
        required=True,
        data_key="fields",
        metadata={"description": "each field in error → its messages"},
    )


class ErrorSchema(Schema):
    """The API's one error format: {"error": {"status", "message", "fields"}}."""

    error = ma_fields.Nested(ErrorBodySchema, required=True)
