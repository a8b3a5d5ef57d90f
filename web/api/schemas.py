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
    ClaimStatus,
    Demand,
    DestinationBand,
    EmployerKind,
    LaborerStatus,
    PayType,
    PositionSource,
    PostingStatus,
    PovertyStatus,
    Sex,
    VerificationMethod,
    VerificationSubject,
    VisitOutcome,
    WatchReason,
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
    destination_band = _enum(
        DestinationBand,
        allow_none=True,
        metadata={"description": "the transport subsidy's band: outside_far, outside_near or inside_province"},
    )
    arrived_on = fields.Date(dump_only=True, allow_none=True)
    received_by_name = fields.String(dump_only=True, allow_none=True)
    received_by_phone = fields.String(dump_only=True, allow_none=True)
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


# -- welfare posts month by month (issue 13, part 3) --------------------------------------------------

_MONTH = validate.Regexp(r"^\d{4}-\d{2}$", error="write the month as YYYY-MM")


class AttendanceArgsSchema(Schema):
    village = fields.String(validate=validate.Length(equal=12), metadata={"description": "village code"})
    month = fields.String(metadata={"description": "YYYY-MM (default: the month just ended)"}, validate=_MONTH)


class AttendanceDaySchema(Schema):
    placement_id = fields.Integer(required=True, validate=validate.Range(1, 2**31 - 1))
    days_present = fields.Integer(required=True, validate=validate.Range(0, 31))


class AttendanceWriteSchema(Schema):
    village_code = fields.String(required=True, validate=validate.Length(equal=12))
    month = fields.String(required=True, validate=_MONTH)
    days = fields.List(fields.Nested(AttendanceDaySchema), required=True, validate=validate.Length(1, 500))


class HolderMonthSchema(Schema):
    placement_id = fields.Integer()
    laborer_id = fields.Integer()
    laborer_name = fields.String()
    village_code = fields.String()
    household_code = fields.String()
    post_id = fields.Integer()
    post_title = fields.String()
    stipend_cents = fields.Integer()
    month_work_days = fields.Integer()
    days_expected = fields.Integer()
    days_present = fields.Integer(allow_none=True, metadata={"description": "null: not recorded yet"})
    due_cents = fields.Integer(metadata={"description": "the stipend due, integer cents (0 until recorded)"})


class AttendanceSheetSchema(Schema):
    village_code = fields.String()
    month = fields.String()
    rows = fields.List(fields.Nested(HolderMonthSchema))


class PayrollArgsSchema(Schema):
    township = fields.String(validate=validate.Length(equal=9), metadata={"description": "township code"})
    month = fields.String(metadata={"description": "YYYY-MM (default: the month just ended)"}, validate=_MONTH)


class PayrollTotalsSchema(Schema):
    holders = fields.Integer()
    days_expected = fields.Integer()
    days_present = fields.Integer()
    due_cents = fields.Integer()
    missing = fields.Integer(metadata={"description": "holders whose month is not recorded yet"})


class PayrollSchema(Schema):
    township_code = fields.String()
    month = fields.String()
    lines = fields.List(fields.Nested(HolderMonthSchema))
    totals = fields.Nested(PayrollTotalsSchema)


class TermRowSchema(Schema):
    post_id = fields.Integer()
    post_title = fields.String()
    region_code = fields.String()
    term_end_on = fields.Date()
    days_left = fields.Integer()
    placement_id = fields.Integer(allow_none=True)
    laborer_name = fields.String(allow_none=True)


class TermStepSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["renewed", "ended"]))
    new_end_on = fields.Date(load_default=None, metadata={"description": "renewal: the new end day"})
    note = fields.String(load_default=None, validate=validate.Length(max=200))


class TermStepResultSchema(Schema):
    id = fields.Integer()
    welfare_post_id = fields.Integer()
    action = fields.String()
    old_end_on = fields.Date(allow_none=True)
    new_end_on = fields.Date(allow_none=True)
    placement_id = fields.Integer(allow_none=True)


class FlagHoldingSchema(Schema):
    placement_id = fields.Integer()
    laborer_id = fields.Integer()
    laborer_name = fields.String()
    household_id = fields.Integer()
    post_id = fields.Integer()
    post_title = fields.String()
    age = fields.Integer(allow_none=True)
    age_limit = fields.Integer(allow_none=True)


class WelfareFlagsSchema(Schema):
    working_elsewhere = fields.List(fields.Nested(FlagHoldingSchema))
    two_posts = fields.List(fields.List(fields.Nested(FlagHoldingSchema)))
    over_age = fields.List(fields.Nested(FlagHoldingSchema))


# --- after departure (issue 13, part 4) ----------------------------------------------------------


class HandoverPassengerSchema(Schema):
    placement_id = fields.Integer(required=True, strict=True, validate=RECORD_ID)
    arrived = fields.Boolean(required=True)
    reason = fields.String(validate=validate.Length(max=200), allow_none=True)


class HandoverSchema(Schema):
    """A departed batch's handover: every accepted or working passenger answered for."""

    arrived_on = _day(required=True)
    received_by_name = _text(40, required=True)
    received_by_phone = fields.String(required=True, validate=validate.Length(min=1, max=20))
    passengers = fields.List(
        fields.Nested(HandoverPassengerSchema), required=True, validate=validate.Length(max=10_000)
    )


class HandoverLineSchema(Schema):
    placement_id = fields.Integer(required=True)
    laborer_name = fields.Function(lambda line: line.placement.laborer.name)
    arrived = fields.Boolean(attribute="has_arrived")
    reason = fields.String(allow_none=True)


class SubsidyClaimSchema(Schema):
    id = fields.Integer(dump_only=True)
    laborer_id = fields.Integer()
    laborer_name = fields.Function(lambda claim: claim.laborer.name)
    placement_id = fields.Integer()
    batch_id = fields.Integer()
    county_code = fields.String()
    village_code = fields.String()
    year = fields.Integer()
    band = _enum(DestinationBand)
    amount_cents = fields.Integer()
    due_on = fields.Date()
    status = _enum(ClaimStatus)
    approved_at = fields.DateTime(allow_none=True)


class SubsidyClaimListArgsSchema(Schema):
    status = _enum(ClaimStatus)
    year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    region = fields.String(validate=REGION_CODE)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=PAGE_MAX))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=INT32_MAX))


class SubsidyTotalsSchema(Schema):
    count = fields.Dict(keys=fields.String(), values=fields.Integer())
    cents = fields.Dict(keys=fields.String(), values=fields.Integer())


class ApproveClaimsSchema(Schema):
    ids = fields.List(
        fields.Integer(strict=True, validate=RECORD_ID), required=True, validate=validate.Length(min=1, max=10_000)
    )


class SubsidyRateSchema(Schema):
    band = _enum(DestinationBand)
    amount_cents = fields.Integer()
    is_default = fields.Boolean()


class SubsidyRatesSchema(Schema):
    county_code = fields.String(required=True, validate=validate.Regexp(r"^\d{6}$", error="not a county code"))
    rates = fields.List(fields.Nested(SubsidyRateSchema), dump_only=True)
    amounts_yuan = fields.Dict(
        keys=fields.String(validate=validate.OneOf([b.value for b in DestinationBand])),
        values=fields.Integer(strict=True, validate=validate.Range(min=0, max=100_000)),
        load_only=True,
        metadata={"description": "yuan per band; a band left out keeps its amount"},
    )


class SubsidyRateArgsSchema(Schema):
    county = fields.String(
        validate=validate.Regexp(r"^\d{6}$", error="not a county code"),
        metadata={"description": "a county of your region; the first one when not given"},
    )


# -- the watch and verifications (issue 13, parts 5 and 7) -----------------------------------------


class FollowUpSchema(Schema):
    id = fields.Integer(dump_only=True)
    household_id = fields.Integer(dump_only=True)
    household_code = fields.String(attribute="household.code", dump_only=True)
    village_code = fields.String(attribute="household.village_code", dump_only=True)
    reason = _enum(WatchReason, dump_only=True)
    flagged_on = fields.Date(dump_only=True)
    due_on = fields.Date(dump_only=True, metadata={"description": "the last day of the visit's clock"})
    overdue_on = fields.Date(dump_only=True, allow_none=True, metadata={"description": "when it was found overdue"})
    visited_on = fields.Date(dump_only=True, allow_none=True)
    outcome = _enum(VisitOutcome, dump_only=True, allow_none=True)
    note = fields.String(dump_only=True, allow_none=True)
    closed_on = fields.Date(dump_only=True, allow_none=True)


class FollowUpListArgsSchema(ListArgsSchema):
    state = fields.String(load_default="open", validate=validate.OneOf(["open", "overdue", "closed", "all"]))


class VisitSchema(Schema):
    visited_on = fields.Date(load_default=None, metadata={"description": "default: today"})
    outcome = _enum(VisitOutcome, required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    close = fields.Boolean(load_default=False, metadata={"description": "close the follow-up with this visit"})


def _eligibility_word(value: str) -> None:
    """A post's eligibility is given as eligible or not_eligible (other subjects take their value from the record)."""
    if value not in ("eligible", "not_eligible"):
        # OneOf's own message (web.field_errors): the two codes, each with its word in the request's language.
        raise ValidationError(validate.OneOf.default_message.format(choices="eligible, not_eligible"))


class VerificationSchema(Schema):
    id = fields.Integer(dump_only=True)
    subject = _enum(VerificationSubject, required=True)
    household_id = fields.Integer(validate=validate.Range(min=1, max=INT32_MAX), load_default=None)
    laborer_id = fields.Integer(
        validate=validate.Range(min=1, max=INT32_MAX),
        load_default=None,
        metadata={"description": "required for ability and post_eligibility"},
    )
    # Checked by a function, not OneOf: the answer's value is any subject's (a poverty status, an ability),
    # so the document must not promise the two words a post's eligibility is given in.
    value = fields.String(
        load_default=None,
        validate=_eligibility_word,
        metadata={"description": "given: post_eligibility's eligible | not_eligible; shown: the value on record"},
    )
    method = _enum(VerificationMethod, required=True)
    verified_on = fields.Date(load_default=None, metadata={"description": "default: today"})
    valid_until = fields.Date(dump_only=True)
    verified_by = fields.String(attribute="verified_by.username", dump_only=True)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class VerificationListArgsSchema(ListArgsSchema):
    expired = fields.Boolean(load_default=False, metadata={"description": "only those to re-check"})
    household_id = fields.Integer(validate=validate.Range(min=1, max=INT32_MAX))
