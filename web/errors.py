"""Domain errors raised by services; views and the API translate them into answers."""

from __future__ import annotations

from collections.abc import Mapping

from marshmallow import Schema
from marshmallow import fields as ma_fields


class DomainError(Exception):
    """Base of every error a service raises on purpose; carries its HTTP status."""

    status = 400

    def __init__(self, message: str, fields: Mapping[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class ValidationError(DomainError):
    """Input that breaks a rule; `fields` maps each field to its messages."""

    status = 422

    @classmethod
    def on(cls, field: str, message: str) -> ValidationError:
        """One field, one message."""
        return cls(f"{field}: {message}", {field: [message]})


class NotFoundError(DomainError):
    """No such record, or one the user may not see (the two are indistinguishable on purpose)."""

    status = 404


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
