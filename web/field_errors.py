"""marshmallow's own messages (a wrong type, a missing or unknown field, a length, a range, a choice)
in the request's language, as every other message of the API is.

marshmallow says them in English and formats some with the value judged ("Length must be between 1
and 40."). Here each becomes a catalog msgid of jiuye's (`_Message`, a str): one without values is
looked up when the error answer is rendered (`web.errors.words`); one with values is translated
first and then filled, at the moment marshmallow fills it, which is while the request is judged.
`install` replaces the defaults on marshmallow's classes; fields copy their messages when they are
made, so it runs when the `web` package is imported, before any schema exists (`web/__init__.py`).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context
from flask_babel import get_locale, gettext
from marshmallow import Schema, fields, validate


def N_(text: str) -> str:  # noqa: N802  (Babel's keyword for a msgid translated later)
    """Mark a msgid for the catalog; it is translated when shown."""
    return text


class _Message(str):
    """A msgid that marshmallow may fill with values: translated first, then filled."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        template = gettext(str(self)) if has_request_context() else str(self)
        return template.format(*args, **kwargs)


class _ChoiceMessage(_Message):
    """A choice's message (`validate.OneOf`, `fields.Enum`): the codes the client must send, each followed
    by its word in the request's language where the catalog has one (`web.labels.LABELS`) and it is not
    the code itself, as in 必须是以下之一：opening（就近岗位）, batch（点对点专车）."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        choices = kwargs.get("choices")
        # marshmallow hands the choices over joined by ", " (OneOf.choices_text, Enum.choices_text); no code has one.
        if has_request_context() and isinstance(choices, str) and choices:
            kwargs["choices"] = ", ".join(_with_word(code) for code in choices.split(", "))
        return super().format(*args, **kwargs)


def _with_word(code: str) -> str:
    from .labels import LABELS  # the words live beside the pages', which import the app's models

    word = LABELS.get(code)
    if word is None or str(word) == code:
        return code
    return f"{code} ({word})" if str(get_locale()) == "en" else f"{code}（{word}）"


class _RangeMessage(str):
    """`validate.Range` fills its message with the bound's operator when the validator is made (at
    import, outside any request): this picks the msgid for that operator instead, to be translated
    and filled with the bounds when a value is judged."""

    __slots__ = ("by_operator",)
    by_operator: dict[tuple[str | None, str | None], _Message]

    def __new__(cls, by_operator: dict[tuple[str | None, str | None], str]) -> _RangeMessage:
        message = super().__new__(cls, next(iter(by_operator.values())))
        message.by_operator = {key: _Message(text) for key, text in by_operator.items()}
        return message

    def format(self, *args: Any, **kwargs: Any) -> str:
        return self.by_operator[(kwargs.get("min_op"), kwargs.get("max_op"))]


#: Each field class's messages by marshmallow's key.
FIELD_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.Field: {
        "required": N_("this field is required"),
        "null": N_("may not be null"),
        "validator_failed": N_("not a valid value"),
    },
    fields.Number: {"invalid": N_("must be a number"), "too_large": N_("the number is too large")},
    fields.Integer: {"invalid": N_("must be a whole number")},
    fields.Float: {"special": N_("must be a finite number")},
    fields.Decimal: {"special": N_("must be a finite number")},
    fields.String: {"invalid": N_("must be text"), "invalid_utf8": N_("must be text in UTF-8")},
    fields.Boolean: {"invalid": N_("must be true or false")},
    fields.Date: {"invalid": N_("must be a date as YYYY-MM-DD"), "format": N_("must be a date as YYYY-MM-DD")},
    fields.DateTime: {
        "invalid": N_("must be a date and time as in 2020-06-30T08:00:00+08:00"),
        "format": N_("must be a date and time as in 2020-06-30T08:00:00+08:00"),
        "invalid_awareness": N_("must be a date and time with its time zone, as in 2020-06-30T08:00:00+08:00"),
    },
    fields.List: {"invalid": N_("must be a list")},
    fields.Mapping: {"invalid": N_("must be an object")},
    fields.Nested: {"type": N_("must be an object")},
    fields.Enum: {"unknown": N_("must be one of: {choices}")},
}
#: Messages that list the codes to choose from (each given its word, `_ChoiceMessage`), by field class.
CHOICE_MESSAGES: dict[type[fields.Field], set[str]] = {fields.Enum: {"unknown"}}
#: The schema's own: a body that is not an object, a field the request does not have.
SCHEMA_MESSAGES = {"type": N_("must be an object"), "unknown": N_("not a field of this request")}
#: webargs' one message of its own (a body that is not JSON), a msgid as it stands: looked up when shown.
N_("Invalid JSON body.")


def install() -> None:
    """Put jiuye's msgids in place of marshmallow's English defaults (once, before any field is made)."""
    for field_class, messages in FIELD_MESSAGES.items():
        choices = CHOICE_MESSAGES.get(field_class, set())
        field_class.default_error_messages = {
            **field_class.__dict__.get("default_error_messages", {}),
            **{key: (_ChoiceMessage if key in choices else _Message)(text) for key, text in messages.items()},
        }
    Schema._default_error_messages = {
        **Schema._default_error_messages,
        **{key: _Message(text) for key, text in SCHEMA_MESSAGES.items()},
    }
    validate.Length.message_min = _Message(N_("must have a length of at least {min}"))
    validate.Length.message_max = _Message(N_("must have a length of at most {max}"))
    validate.Length.message_all = _Message(N_("must have a length from {min} to {max}"))
    validate.Length.message_equal = _Message(N_("must have a length of {equal}"))
    validate.OneOf.default_message = _ChoiceMessage(N_("must be one of: {choices}"))
    validate.Regexp.default_message = _Message(N_("does not have the expected form"))
    # Range: tokens for the operators, each pair of which picks its own msgid (see _RangeMessage).
    validate.Range.message_gte, validate.Range.message_gt = "≥", ">"
    validate.Range.message_lte, validate.Range.message_lt = "≤", "<"
    validate.Range.message_min = _RangeMessage(
        {("≥", None): N_("must be at least {min}"), (">", None): N_("must be more than {min}")}
    )
    validate.Range.message_max = _RangeMessage(
        {(None, "≤"): N_("must be at most {max}"), (None, "<"): N_("must be less than {max}")}
    )
    validate.Range.message_all = _RangeMessage(
        {
            ("≥", "≤"): N_("must be from {min} to {max}"),
            (">", "≤"): N_("must be more than {min} and at most {max}"),
            ("≥", "<"): N_("must be at least {min} and less than {max}"),
            (">", "<"): N_("must be more than {min} and less than {max}"),
        }
    )


install()
