"""Marshmallow schemas of the registry resources: they validate input and, through flask-smorest,
write the OpenAPI document, so the two cannot drift apart. Field names follow DESIGN §2.

Checks that need the database (regions exist, scope, unique ID numbers) live in
`services.registry`; everything a single request body can show to be wrong is refused here.
"""

from __future__ import annotations

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models import (
    Ability,
    BatchStatus,
    Demand,
    EmployerKind,
    LaborerStatus,
    PayType,
    PositionSource,
    PostingStatus,
    PovertyStatus,
    Sex,
    WelfarePostType,
    WorkArea,
)
from ..services.registry import GIVEN_SOURCES
from ..validation import (
    CHINA_LAT,
    INT32_MAX,
    PAGE_MAX,
    check_day,
    check_phone,
    check_position,
    parse_resident_id,
)

REGION_CODE = validate.Regexp(r"^\d{2}$|^\d{4}$|^\d{6}$|^\d{9}$|^\d{12}$", error="not a region code")
VILLAGE_CODE = validate.Regexp(r"^\d{12}$", error="not a 12-digit village code")
AGE = validate.Range(min=16, max=100)
# Every integer fits the database's INTEGER columns: beyond them, a 422 naming the field.
POSITIVE = validate.Range(min=1, max=INT32_MAX)
NON_NEGATIVE = validate.Range(min=0, max=INT32_MAX)
RECORD_ID = validate.Range(min=1, max=INT32_MAX)


def in_day_range(value):
    """Dates and moments from 1900 to 2100 (web.validation.check_day)."""
    try:
        check_day(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def _enum(enum_cls, **kwargs) -> fields.Enum:
    return fields.Enum(enum_cls, by_value=True, **kwargs)


def _text(max_length: int, **kwargs) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _tags(**kwargs) -> fields.List:
    kwargs.setdefault("metadata", {"description": "at most MAX_LIST_ITEMS (default 20) items"})
    return fields.List(fields.String(validate=validate.Length(min=1, max=40)), **kwargs)


def _day(**kwargs) -> fields.Date:
    return fields.Date(validate=in_day_range, **kwargs)


class ResidentIdField(fields.String):
    """An 18-digit resident ID number, checked (format, birth date, check digit) and normalised."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_resident_id(text).number
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class PhoneField(fields.String):
    """A mainland mobile or landline number, normalised (spaces, +86 removed)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_phone(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class UtcDateTimeField(fields.AwareDateTime):
    """A moment in time: any offset on input (none means UTC), always UTC on output."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        # Checked before converting: 9999-12-31T23:59:59-14:00 has no UTC time in Python's range.
        in_day_range(moment)
        return moment.astimezone(UTC)

    def _serialize(self, value, attr, obj, **kwargs):
        # SQLite hands back naive datetimes; jiuye only ever writes UTC.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class PositionSchema(Schema):
    """lat/lon (WGS-84), given together or not at all; when omitted, jiuye borrows the best known
    point (the household's, the employer's, the region's) and `position_source` says which."""

    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    position_source = _enum(
        PositionSource,
        metadata={"description": "on input only gps or typed; the others are set by jiuye"},
    )

    @validates_schema
    def position_is_complete(self, data, **kwargs):
        if data.get("position_source") not in (None, *GIVEN_SOURCES):
            raise ValidationError("on input only gps or typed", "position_source")
        lat, lon = data.get("lat"), data.get("lon")
        if (lat is None) != (lon is None):
            missing = "lon" if lon is None else "lat"
            raise ValidationError("give latitude and longitude together", missing)
        if lat is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return  # the field validators already said what is wrong
        try:
            check_position(lat, lon)
        except ValueError as exc:
            field = "lon" if CHINA_LAT[0] <= lat <= CHINA_LAT[1] else "lat"
            raise ValidationError(str(exc), field) from None


class AgeRangeSchema(Schema):
    min_age = fields.Integer(validate=AGE, allow_none=True)
    max_age = fields.Integer(validate=AGE, allow_none=True)

    @validates_schema
    def ages_in_order(self, data, **kwargs):
        low, high = data.get("min_age"), data.get("max_age")
        if low is not None and high is not None and low > high:
            raise ValidationError("must not be greater than max_age", "min_age")


class PatchMixin:
    """PATCH bodies: every top-level field optional, nested objects still complete."""

    _declared_fields: dict[str, fields.Field]  # the Schema's, which this mixin comes with

    def __init__(self, **kwargs):
        kwargs.setdefault("partial", tuple(self._declared_fields))
        super().__init__(**kwargs)


# --- households and laborers ------------------------------------------------------------------


class HouseholdSchema(PositionSchema):
    id = fields.Integer(dump_only=True)
    code = _text(32, required=True)
    village_code = fields.String(required=True, validate=VILLAGE_CODE)
    head_name = _text(40, required=True)
    poverty_status = _enum(PovertyStatus, required=True)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class HouseholdPatchSchema(PatchMixin, HouseholdSchema):
    pass


class LaborerSchema(PositionSchema):
    id = fields.Integer(dump_only=True)
    household_id = fields.Integer(required=True, strict=True, validate=RECORD_ID)
    name = _text(40, required=True)
    id_number = ResidentIdField(
        required=True,
        metadata={
            "description": "18-digit resident ID; in full when one record is read (audited), "
            "masked to its first 6 and last 1 characters (141030***********X) in lists"
        },
    )
    birth_on = _day(metadata={"description": "derived from id_number; if given, must agree"})
    sex = _enum(Sex, metadata={"description": "derived from id_number; if given, must agree"})
    phone = PhoneField(allow_none=True, metadata={"description": "in full when one record is read; masked in lists"})
    age = fields.Integer(dump_only=True, metadata={"description": "whole years today"})
    physical_ability = _enum(Ability, required=True)
    skills = _tags()
    work_area = _enum(WorkArea, required=True)
    max_commute_km = fields.Float(
        validate=validate.Range(min=0, max=500, min_inclusive=False), metadata={"default": 10}
    )
    job_types = _tags()
    pay_type = _enum(PayType, allow_none=True)
    needs_flexible_hours = fields.Boolean()
    has_disability = fields.Boolean(metadata={"description": "plans may reserve posts for people with disabilities"})
    status = _enum(LaborerStatus)
    over_age_confirmed = fields.Boolean(
        metadata={
            "description": "required true for a person older than MAX_LABOR_AGE (75): the cadre confirms "
            "that they still want and are able to work; under MIN_LABOR_AGE (16) is refused"
        }
    )
    registered_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def identity_agrees(self, data, **kwargs):
        number = data.get("id_number")
        if number is None:
            return
        resident = parse_resident_id(number)
        if data.get("birth_on") is not None and data["birth_on"] != resident.birth_on:
            raise ValidationError("does not match the birth date given", "id_number")
        if data.get("sex") is not None and data["sex"] != resident.sex:
            raise ValidationError("does not match the sex given", "id_number")


class LaborerPatchSchema(PatchMixin, LaborerSchema):
    pass


class LaborerListItemSchema(LaborerSchema):
    """A laborer in a list: the ID number masked and no birth date, so that the two never meet."""

    class Meta:
        exclude = ("birth_on",)


# --- employers, openings, batches ------------------------------------------------------------


class EmployerSchema(PositionSchema):
    id = fields.Integer(dump_only=True)
    name = _text(120, required=True)
    kind = _enum(EmployerKind, required=True)
    region_code = fields.String(required=True, validate=REGION_CODE)
    contact_name = fields.String(validate=validate.Length(max=40), allow_none=True)
    phone = PhoneField(allow_none=True)
    is_marked_resumed = fields.Boolean(metadata={"description": "set by an office only"})
    created_at = fields.DateTime(dump_only=True)


class EmployerPatchSchema(PatchMixin, EmployerSchema):
    pass


class PostingSchema(AgeRangeSchema):
    """Fields openings and transport batches share."""

    id = fields.Integer(dump_only=True)
    employer_id = fields.Integer(
        strict=True,
        validate=RECORD_ID,
        metadata={"description": "an employer user's own employer when omitted"},
    )
    title = _text(120, required=True)
    job_type = _text(40, required=True)
    physical_demand = _enum(Demand, required=True)
    skills = _tags()
    pay_type = _enum(PayType, required=True)
    pay_cents = fields.Integer(validate=NON_NEGATIVE, allow_none=True)
    region_code = fields.String(validate=REGION_CODE)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)


class OpeningSchema(PositionSchema, PostingSchema):
    slots = fields.Integer(required=True, strict=True, validate=POSITIVE)
    is_flexible_hours = fields.Boolean()
    start_on = _day(required=True)
    status = _enum(PostingStatus)


class OpeningPatchSchema(PatchMixin, OpeningSchema):
    class Meta:
        exclude = ("employer_id",)


class PickupPointSchema(PositionSchema):
    id = fields.Integer(dump_only=True)
    name = _text(80, required=True)
    region_code = fields.String(required=True, validate=REGION_CODE)


class BatchSchema(PostingSchema):
    destination = _text(120, required=True)
    departs_at = UtcDateTimeField(required=True)
    seats = fields.Integer(required=True, strict=True, validate=POSITIVE)
    status = _enum(BatchStatus)
    pickup_points = fields.List(
        fields.Nested(PickupPointSchema),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "at most MAX_PICKUP_POINTS (default 50); on PATCH, replaces the whole list"},
    )


class BatchPatchSchema(PatchMixin, BatchSchema):
    class Meta:
        exclude = ("employer_id",)


# --- welfare posts -----------------------------------------------------------------------------


class WelfarePostSchema(PositionSchema, AgeRangeSchema):
    id = fields.Integer(dump_only=True)
    post_type = _enum(WelfarePostType, required=True)
    title = _text(120, required=True)
    region_code = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{9}$|^\d{12}$", error="not a village or township code"),
    )
    slots = fields.Integer(strict=True, validate=POSITIVE, metadata={"default": 1})
    physical_demand = _enum(Demand, required=True)
    stipend_cents = fields.Integer(required=True, strict=True, validate=NON_NEGATIVE)
    term_start_on = _day(required=True)
    term_end_on = _day(allow_none=True)
    status = _enum(PostingStatus)
    created_at = fields.DateTime(dump_only=True)
    updated_at = fields.DateTime(dump_only=True)

    @validates_schema
    def term_in_order(self, data, **kwargs):
        start, end = data.get("term_start_on"), data.get("term_end_on")
        if start is not None and end is not None and end < start:
            raise ValidationError("must not be before term_start_on", "term_end_on")


class WelfarePostPatchSchema(PatchMixin, WelfarePostSchema):
    pass


# --- lists ---------------------------------------------------------------------------------------


class ListArgsSchema(Schema):
    """Query arguments every list takes: a region code prefix and a page."""

    region = fields.String(
        validate=REGION_CODE,
        metadata={"description": "any region code (province … village): records inside it"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=INT32_MAX),
        metadata={"description": "capped at the server's API_PAGE_SIZE_MAX (default 200)"},
    )


class HouseholdListArgsSchema(ListArgsSchema):
    poverty_status = _enum(PovertyStatus)


class LaborerListArgsSchema(ListArgsSchema):
    status = _enum(LaborerStatus)


class EmployerListArgsSchema(ListArgsSchema):
    kind = _enum(EmployerKind)


class PostingListArgsSchema(ListArgsSchema):
    status = _enum(PostingStatus)


class BatchListArgsSchema(ListArgsSchema):
    status = _enum(BatchStatus)


class PageMetaSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The list envelope {"items": [...], "meta": {page, per_page, total, pages}}."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "meta": fields.Nested(PageMetaSchema, required=True),
        },
        name=name,
    )
