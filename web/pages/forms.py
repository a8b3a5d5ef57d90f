"""The page forms (Flask-WTF, CSRF on) and their conversion to the services' input mappings.

Forms check what a person can fix by looking at the field (required, ranges, ID number, phone);
the services re-check everything, including what needs the database, and their complaints are put
next to the same fields by `pages.show_errors`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum
from typing import Any

from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FloatField,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from matcher.quotas import BOUNDS as QUOTA_BOUNDS
from matcher.quotas import GROUPS as QUOTA_GROUPS
from matcher.quotas import PER as QUOTA_PER
from matcher.types import KINDS, WORK_JOB_TYPES, job_label, job_type_code, skill_code, skill_label

from .. import clock
from ..labels import LABELS, QUOTA_WORDS
from ..models import (
    Ability,
    Demand,
    DestinationBand,
    LaborerStatus,
    PayType,
    PlanMode,
    PositionSource,
    PovertyStatus,
    VerificationMethod,
    VisitOutcome,
    WelfarePostType,
    WorkArea,
)
from ..validation import INT32_MAX, check_day, check_phone, parse_resident_id


def options(pairs) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs."""
    return [SelectChoice(value, text) for value, text in pairs]


def choices(enum_cls: type[Enum], blank: bool = False) -> list[SelectChoice]:
    """The values of an enumeration with their display names, for a SelectField.

    The names stay lazy: forms are built at import time, the language is the request's.
    """
    pairs = [(m.value, LABELS.get(m.value, m.value)) for m in enum_cls]
    return options([("", _l("(not given)")), *pairs] if blank else pairs)


def job_type_choices() -> list[SelectChoice]:
    """The common job types, named in the request's language when the form is drawn."""
    return options((code, LazyString(lambda c=code: job_label(c, _language()))) for code in WORK_JOB_TYPES)


def _language() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def split_job_types(text: str | None) -> list[str]:
    """Typed job types, each turned into its code when it is a known name (包装 → packaging)."""
    return [job_type_code(name) for name in split_list(text)]


def split_skills(text: str | None) -> list[str]:
    """Typed skills, each turned into its code when it is a known name (叉车 → forklift)."""
    return [skill_code(name) for name in split_list(text)]


def skill_words(skills: list[str] | None) -> str:
    """Stored skills as a form shows them: their names in the page's language, separated by commas."""
    language = _language()
    return ("，" if language == "zh" else ", ").join(skill_label(skill, language) for skill in skills or [])


def split_list(text: str | None) -> list[str]:
    """'a, b，c' → ['a', 'b', 'c'] (ASCII or Chinese commas, blanks dropped)."""
    return [p.strip() for p in (text or "").replace("，", ",").replace("、", ",").split(",") if p.strip()]


def resident_id(form, field) -> None:
    """The ID number's format, birth date and check digit, as the server checks them."""
    try:
        parse_resident_id(field.data or "")
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def day_range(form, field) -> None:
    """Dates and departure times from 1900 to 2100, as the server keeps them."""
    if field.data is not None:
        try:
            check_day(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def record_id(form, field) -> None:
    """A record's id as text: digits, within what the database stores."""
    text = field.data or ""
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= INT32_MAX):
        raise ValidationError(_l("not a record number"))


def phone(form, field) -> None:
    if field.data:
        try:
            check_phone(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def cents(amount: Decimal | None) -> int | None:
    return None if amount is None else int((amount * 100).to_integral_value())


class PositionMixin:
    """Latitude and longitude typed or filled from the phone's GPS; blank = the region's point."""

    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    position_source = HiddenField(default=PositionSource.TYPED.value)

    def position_data(self) -> dict[str, Any]:
        if self.lat.data is None and self.lon.data is None:
            return {}
        source = self.position_source.data
        if source not in (PositionSource.GPS.value, PositionSource.TYPED.value):
            source = PositionSource.TYPED.value
        return {"lat": self.lat.data, "lon": self.lon.data, "position_source": source}


# -- cadre ----------------------------------------------------------------------------------------


class HouseholdForm(PositionMixin, FlaskForm):
    code = StringField(_l("Household code"), validators=[DataRequired(), Length(max=32)])
    village_code = SelectField(_l("Village"), validators=[DataRequired()])
    head_name = StringField(_l("Head of household"), validators=[DataRequired(), Length(max=40)])
    poverty_status = SelectField(_l("Poverty status"), choices=choices(PovertyStatus))

    def data_for_service(self) -> dict[str, Any]:
        return {
            "code": self.code.data.strip(),
            "village_code": self.village_code.data,
            "head_name": self.head_name.data.strip(),
            "poverty_status": PovertyStatus(self.poverty_status.data),
            **self.position_data(),
        }


class LaborerForm(PositionMixin, FlaskForm):
    # A picker: the household's code or its head's name, found among the cadre's households by the
    # view (services.search.find_household), which adds its id to data_for_service's answer.
    household_code = StringField(
        _l("Household"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"list": "household-list", "autocomplete": "off", "spellcheck": "false"},
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    id_number = StringField(
        _l("ID number"), validators=[DataRequired(), resident_id], render_kw={"autocomplete": "off"}
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20), phone])
    physical_ability = SelectField(_l("Physical ability"), choices=choices(Ability))
    skills = StringField(_l("Skills (separated by commas)"), validators=[Length(max=200)])
    work_area = SelectField(_l("Where they will work"), choices=choices(WorkArea))
    max_commute_km = FloatField(
        _l("Longest commute (km)"), default=10.0, validators=[InputRequired(), NumberRange(0.5, 500)]
    )
    job_types = SelectMultipleField(
        _l("Wanted kinds of work"),
        choices=job_type_choices(),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    other_job_types = StringField(_l("Other kinds of work (separated by commas)"), validators=[Length(max=200)])
    pay_type = SelectField(_l("Preferred pay"), choices=choices(PayType, blank=True))
    needs_flexible_hours = BooleanField(_l("Needs flexible hours"))
    has_disability = BooleanField(_l("Has a disability"))
    status = SelectField(_l("Status"), choices=choices(LaborerStatus))
    over_age_confirmed = BooleanField(_l("Older than the working age, but still wants and is able to work"))

    def data_for_service(self) -> dict[str, Any]:
        return {
            "name": self.name.data.strip(),
            "id_number": self.id_number.data.strip(),
            "phone": (self.phone.data or "").strip() or None,
            "physical_ability": Ability(self.physical_ability.data),
            "skills": split_skills(self.skills.data),
            "work_area": WorkArea(self.work_area.data),
            "max_commute_km": self.max_commute_km.data,
            "job_types": list(
                dict.fromkeys([*(self.job_types.data or []), *split_job_types(self.other_job_types.data)])
            ),
            "pay_type": PayType(self.pay_type.data) if self.pay_type.data else None,
            "needs_flexible_hours": bool(self.needs_flexible_hours.data),
            "has_disability": bool(self.has_disability.data),
            "status": LaborerStatus(self.status.data),
            "over_age_confirmed": bool(self.over_age_confirmed.data),
            **self.position_data(),
        }


class ImportForm(FlaskForm):
    upload = FileField(
        _l("Spreadsheet (XLSX or CSV)"),
        validators=[FileRequired(), FileAllowed(["xlsx", "csv"], _l("only .xlsx or .csv files"))],
    )


class TokenForm(FlaskForm):
    """A confirmation that carries the id of an uploaded file."""

    token = HiddenField(validators=[DataRequired(), Length(max=64)])


class ImportCommitForm(TokenForm):
    """Import a previewed sheet: every row or none (`all`), or only the rows without errors (`valid`)."""

    mode = HiddenField(default="all", validators=[Optional(), AnyOf(["all", "valid"])])


class OfferForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    target_id = HiddenField(validators=[DataRequired(), record_id])


# -- employer -------------------------------------------------------------------------------------


class EmployerForm(PositionMixin, FlaskForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=120)])
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=40)])
    phone = StringField(_l("Contact phone"), validators=[Optional(), Length(max=20), phone])

    def data_for_service(self) -> dict[str, Any]:
        return {
            "name": self.name.data.strip(),
            "contact_name": (self.contact_name.data or "").strip() or None,
            "phone": (self.phone.data or "").strip() or None,
            **self.position_data(),
        }


class PostingMixin:
    """What openings and batches share."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    job_type = SelectField(
        _l("Kind of work"), choices=[*job_type_choices(), SelectChoice("other", _l("other (type it below)"))]
    )
    other_job_type = StringField(_l("Other kind of work"), validators=[Length(max=40)])

    def validate_other_job_type(self, field) -> None:
        if self.job_type.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("name the kind of work"))

    min_age = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(16, 100)])
    max_age = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(16, 100)])
    physical_demand = SelectField(_l("Physical demand"), choices=choices(Demand))
    skills = StringField(_l("Required skills (separated by commas)"), validators=[Length(max=200)])
    pay_type = SelectField(_l("Pay type"), choices=choices(PayType))
    pay_yuan = DecimalField(_l("Pay (yuan)"), places=2, validators=[Optional(), NumberRange(0, 10_000_000)])

    def validate_max_age(self, field) -> None:
        if field.data is not None and self.min_age.data is not None and field.data < self.min_age.data:
            raise ValidationError(_l("must not be below the minimum age"))

    def posting_data(self) -> dict[str, Any]:
        return {
            "title": self.title.data.strip(),
            "job_type": job_type_code(self.other_job_type.data)
            if self.job_type.data == "other"
            else self.job_type.data,
            "min_age": self.min_age.data,
            "max_age": self.max_age.data,
            "physical_demand": Demand(self.physical_demand.data),
            "skills": split_skills(self.skills.data),
            "pay_type": PayType(self.pay_type.data),
            "pay_cents": cents(self.pay_yuan.data),
        }


class OpeningForm(PostingMixin, PositionMixin, FlaskForm):
    slots = IntegerField(_l("Slots"), validators=[InputRequired(), NumberRange(1, 10_000)])
    is_flexible_hours = BooleanField(_l("Flexible hours"))
    start_on = DateField(_l("Start date"), validators=[InputRequired(), day_range])

    def data_for_service(self) -> dict[str, Any]:
        return {
            **self.posting_data(),
            "slots": self.slots.data,
            "is_flexible_hours": bool(self.is_flexible_hours.data),
            "start_on": self.start_on.data,
            **self.position_data(),
        }


class PickupForm(Form):
    """One pickup point; a row left without a name is ignored."""

    name = StringField(_l("Pickup point"), validators=[Optional(), Length(max=80)])
    region_code = SelectField(_l("Township"), validators=[Optional()])
    lat = FloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    lon = FloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])


class BatchForm(PostingMixin, FlaskForm):
    destination = StringField(_l("Destination"), validators=[DataRequired(), Length(max=120)])
    departs_at = DateTimeLocalField(
        _l("Departure (local time)"), format="%Y-%m-%dT%H:%M", validators=[InputRequired(), day_range]
    )
    seats = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(1, 10_000)])
    destination_band = SelectField(
        _l("Destination band (transport subsidy)"), choices=choices(DestinationBand, True), default=""
    )
    pickup_points = FieldList(FormField(PickupForm), min_entries=3, max_entries=10)

    def validate_pickup_points(self, field) -> None:
        if not any((entry.form.name.data or "").strip() for entry in field.entries):
            raise ValidationError(_l("give at least one pickup point"))

    def data_for_service(self) -> dict[str, Any]:
        departs = clock.as_utc(self.departs_at.data)
        points = []
        for entry in self.pickup_points.entries:
            point = entry.form
            if not (point.name.data or "").strip():
                continue
            item = {"name": point.name.data.strip(), "region_code": point.region_code.data}
            if point.lat.data is not None or point.lon.data is not None:
                item.update(lat=point.lat.data, lon=point.lon.data, position_source="typed")
            points.append(item)
        return {
            **self.posting_data(),
            "destination": self.destination.data.strip(),
            "departs_at": departs,
            "seats": self.seats.data,
            "destination_band": self.destination_band.data or None,
            "pickup_points": points,
        }


# -- after departure (issue 13, part 4) -------------------------------------------------------------


class BandForm(FlaskForm):
    """The destination band of a batch, for the transport subsidy."""

    destination_band = SelectField(
        _l("Destination band (transport subsidy)"), choices=choices(DestinationBand, True), default=""
    )


class HandoverForm(FlaskForm):
    """A batch's handover at the employer; each passenger's answer is read beside it (arrived-<id>, reason-<id>)."""

    arrived_on = DateField(_l("Arrived on"), validators=[InputRequired(), day_range])
    received_by_name = StringField(_l("Received by (name)"), validators=[DataRequired(), Length(max=40)])
    received_by_phone = StringField(_l("Their phone"), validators=[DataRequired(), Length(max=20)])

    def validate_received_by_phone(self, field) -> None:
        try:
            check_phone(field.data or "")
        except ValueError as exc:
            raise ValidationError(exc.args[0]) from None


class RatesForm(FlaskForm):
    """A county's transport subsidy per destination band, in whole yuan."""

    outside_far = IntegerField(_l("Outside the province, far"), validators=[InputRequired(), NumberRange(0, 100_000)])
    outside_near = IntegerField(_l("Outside the province, near"), validators=[InputRequired(), NumberRange(0, 100_000)])
    inside_province = IntegerField(_l("Inside the province"), validators=[InputRequired(), NumberRange(0, 100_000)])


# -- office ---------------------------------------------------------------------------------------


class QuotaForm(Form):
    """One cap or reserve of a plan (matcher.quotas); a row left at "no quota" is ignored."""

    bound = SelectField(
        _l("Quota"),
        choices=options([("", _l("(no quota)")), *((b, QUOTA_WORDS[b]) for b in QUOTA_BOUNDS)]),
        validators=[Optional()],
    )
    amount = FloatField(_l("How many"), validators=[Optional(), NumberRange(min=0.01, max=100_000)])
    # A row left empty sends none of these: their choices are checked by the service, for filled rows only.
    unit = SelectField(
        _l("Counted as"),
        choices=options([("percent", _l("percent of the free slots")), ("count", _l("number of people"))]),
        validate_choice=False,
    )
    channel = SelectField(_l("Of"), choices=options((k, LABELS[k]) for k in KINDS), validate_choice=False)
    per = SelectField(_l("Where"), choices=options((p, QUOTA_WORDS[p]) for p in QUOTA_PER), validate_choice=False)
    groups = SelectMultipleField(
        _l("Go to"),
        choices=options((g, QUOTA_WORDS[g]) for g in QUOTA_GROUPS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=False,
    )

    def data_for_service(self) -> dict[str, Any] | None:
        """The quota as the service takes it (None for a row left empty)."""
        if not self.bound.data:
            return None
        amount = self.amount.data
        return {
            "bound": self.bound.data,
            "groups": list(self.groups.data or []),
            "channel": self.channel.data,
            "per": self.per.data,
            "percent": amount if self.unit.data == "percent" else None,
            "count": int(amount) if self.unit.data == "count" and amount is not None else None,
        }


class PlanForm(FlaskForm):
    region_code = SelectField(_l("County or city"), validators=[DataRequired()])
    mode = SelectField(
        _l("Mode"),
        choices=options((m.value, LABELS.get(m.value, m.value)) for m in PlanMode),
        default=PlanMode.OPTIMAL.value,
    )
    quotas = FieldList(FormField(QuotaForm), min_entries=3, max_entries=3)

    def quotas_for_service(self) -> list[dict[str, Any]]:
        """The quotas filled in, in their order on the form."""
        return [q for q in (entry.form.data_for_service() for entry in self.quotas.entries) if q is not None]

    def validate_quotas(self, field) -> None:
        for entry in field.entries:
            quota = entry.form
            if not quota.bound.data:
                continue
            if quota.amount.data is None:
                quota.amount.errors = [*quota.amount.errors, _l("give how many")]
                raise ValidationError(_l("complete or clear each quota"))
            if not quota.groups.data:
                quota.groups.errors = [*quota.groups.errors, _l("choose who the quota is for")]
                raise ValidationError(_l("complete or clear each quota"))


class RerunForm(FlaskForm):
    """The "run again" button of a failed plan: nothing but its CSRF token."""


class WhatIfForm(FlaskForm):
    """Things that are not real yet, tried on a plan (`web.services.whatif`); each pair is optional."""

    workshop_village = SelectField(_l("Village of a new workshop"), validate_choice=False)
    workshop_slots = IntegerField(_l("Its slots"), validators=[Optional(), NumberRange(1, 10_000)])
    batch_pickup = SelectField(_l("Pickup point of a new batch (village or township)"), validate_choice=False)
    batch_seats = IntegerField(_l("Its seats"), validators=[Optional(), NumberRange(1, 10_000)])
    posts_township = SelectField(_l("Township of new welfare posts"), validate_choice=False)
    posts_count = IntegerField(_l("Number of posts"), validators=[Optional(), NumberRange(1, 1_000)])
    commute_extra_km = DecimalField(
        _l("Longer commute limit for everyone (km more)"), places=1, validators=[Optional(), NumberRange(0, 100)]
    )

    #: Each place field and the count field that goes with it.
    PAIRS = (("workshop_village", "workshop_slots"), ("batch_pickup", "batch_seats"), ("posts_township", "posts_count"))

    def validate(self, extra_validators=None) -> bool:
        """A place needs its count and a count its place."""
        ok = super().validate(extra_validators)
        for place, count in self.PAIRS:
            has_place, has_count = bool(self[place].data), self[count].data is not None
            if has_place and not has_count:
                self[count].errors = [*self[count].errors, _l("give a number for this place")]
                ok = False
            elif has_count and not has_place:
                self[place].errors = [*self[place].errors, _l("choose a place for this number")]
                ok = False
        return ok


class PlanRemoveForm(FlaskForm):
    """Take one proposal out of a plan under review (issue 14, part 7)."""

    note = StringField(_l("Why (optional)"), validators=[Optional(), Length(max=500)])


class PlanSwapForm(FlaskForm):
    """Move one proposal of a plan under review to another target, given as kind:id."""

    target = StringField(
        _l("Move to"),
        validators=[
            DataRequired(),
            Regexp(r"^(opening|batch|welfare_post):[0-9]{1,9}$", message=_l("choose a target")),
        ],
    )
    note = StringField(_l("Why (optional)"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    is_reviewed = BooleanField(_l("I have reviewed the proposal; send the offers"), validators=[DataRequired()])


class WelfarePostForm(PositionMixin, FlaskForm):
    post_type = SelectField(_l("Kind of post"), choices=choices(WelfarePostType))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    region_code = SelectField(_l("Village or township"), validators=[DataRequired()])
    slots = IntegerField(_l("Slots"), default=1, validators=[InputRequired(), NumberRange(1, 100)])
    min_age = IntegerField(_l("Minimum age"), validators=[Optional(), NumberRange(16, 100)])
    max_age = IntegerField(_l("Maximum age"), validators=[Optional(), NumberRange(16, 100)])
    physical_demand = SelectField(_l("Physical demand"), choices=choices(Demand))
    stipend_yuan = DecimalField(
        _l("Monthly stipend (yuan)"), places=2, validators=[InputRequired(), NumberRange(0, 100_000)]
    )
    term_start_on = DateField(_l("Term starts"), validators=[InputRequired(), day_range])
    term_end_on = DateField(_l("Term ends"), validators=[Optional(), day_range])

    def validate_max_age(self, field) -> None:
        if field.data is not None and self.min_age.data is not None and field.data < self.min_age.data:
            raise ValidationError(_l("must not be below the minimum age"))

    def validate_term_end_on(self, field) -> None:
        if field.data and self.term_start_on.data and field.data < self.term_start_on.data:
            raise ValidationError(_l("must not be before the start of the term"))

    def data_for_service(self) -> dict[str, Any]:
        return {
            "post_type": WelfarePostType(self.post_type.data),
            "title": self.title.data.strip(),
            "region_code": self.region_code.data,
            "slots": self.slots.data,
            "min_age": self.min_age.data,
            "max_age": self.max_age.data,
            "physical_demand": Demand(self.physical_demand.data),
            "stipend_cents": cents(self.stipend_yuan.data),
            "term_start_on": self.term_start_on.data,
            "term_end_on": self.term_end_on.data,
            **self.position_data(),
        }


__all__ = [
    "BatchForm",
    "ConfirmForm",
    "EmployerForm",
    "HouseholdForm",
    "ImportForm",
    "LaborerForm",
    "ImportCommitForm",
    "OfferForm",
    "OpeningForm",
    "PlanForm",
    "TokenForm",
    "WelfarePostForm",
]


class AttendanceForm(FlaskForm):
    """A village's month of attendance: the days fields (days_<holder>) are read from the request."""


class AttendanceImportForm(FlaskForm):
    upload = FileField(
        _l("Attendance sheet (XLSX)"),
        validators=[FileRequired(), FileAllowed(["xlsx"], _l("only .xlsx files"))],
    )


class TermForm(FlaskForm):
    """Renew a welfare post's term (to a new end day, or by the configured months) or end it."""

    action = SelectField(
        _l("Step"), choices=options([("renewed", _l("renew the term")), ("ended", _l("end the term"))])
    )
    new_end_on = DateField(_l("New end day (renewal)"), validators=[Optional(), day_range])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


# -- requests for welfare posts (issue 13, part 2) ------------------------------------------------


class PostRequestForm(FlaskForm):
    requested_on = DateField(_l("Day the household asked"), validators=[InputRequired(), day_range])
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=500)])


class RefuseRequestForm(FlaskForm):
    reason = StringField(_l("Why the request is refused"), validators=[DataRequired(), Length(max=500)])


class VisitForm(FlaskForm):
    """The cadre's follow-up visit to a household under watch (issue 13, part 5)."""

    visited_on = DateField(_l("Day of the visit"), validators=[InputRequired(), day_range])
    outcome = SelectField(_l("What the visit found"), choices=choices(VisitOutcome, blank=True))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])
    close = BooleanField(_l("Close the follow-up (the household no longer needs watching)"))


class VerificationForm(FlaskForm):
    """A verification of a household's poverty status or a member's ability or post eligibility (part 7).

    `fact` is "poverty_status" or "<subject>:<laborer id>"; its choices are the household's facts.
    """

    fact = SelectField(_l("What was verified"), validators=[InputRequired()])
    value = SelectField(
        _l("Finding (welfare-post eligibility)"),
        choices=options([(value, LABELS[value]) for value in ("eligible", "not_eligible")]),
    )
    method = SelectField(_l("How it was verified"), choices=choices(VerificationMethod, blank=True))
    verified_on = DateField(_l("Day verified"), validators=[InputRequired(), day_range])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])

    def data_for_service(self) -> dict[str, Any]:
        subject, _sep, laborer_id = (self.fact.data or "").partition(":")
        return {
            "subject": subject,
            "laborer_id": int(laborer_id) if laborer_id.isdigit() else None,
            "value": self.value.data,
            "method": self.method.data,
            "verified_on": self.verified_on.data,
            "note": self.note.data,
        }


class LearnedWeightForm(FlaskForm):
    """The office's decision on the learned success model's weight in the score (issue 14, part 6)."""

    weight = DecimalField(
        _l("Weight of the learned model in the score (0 to 1)"),
        places=2,
        validators=[InputRequired(), NumberRange(0, 1)],
    )
