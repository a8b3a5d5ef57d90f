"""Words people read: display names of stored codes, the page's language, money, times and explanations.

The pages, the API's messages, the error answers, the importer (the forms' words for a code) and the
exports all take their words from here, so a code has one name in each language.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import LazyString, force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from matcher.types import job_label

from . import clock
from .errors import words
from .services.convert import stored_factors

LABELS = {
    # poverty status
    "registered_poor": _l("registered poor"),
    "monitored": _l("monitored"),
    "non_poor": _l("not poor"),
    # ability and demand
    "full": _l("full"),
    "moderate": _l("moderate"),
    "light": _l("light"),
    "none": _l("none"),
    "heavy": _l("heavy"),
    # work area
    "local": _l("near home"),
    "migrant": _l("away from home"),
    "any": _l("either"),
    # pay type
    "piece": _l("piece rate"),
    "hourly": _l("hourly"),
    "daily": _l("daily"),
    "monthly": _l("monthly"),
    # sex
    "F": _l("female"),
    "M": _l("male"),
    # laborer status
    "seeking": _l("seeking work"),
    "employed": _l("employed"),
    "self_employed": _l("self-employed"),
    "not_seeking": _l("not seeking"),
    # posting and batch status
    "open": _l("open"),
    "paused": _l("paused"),
    "closed": _l("closed"),
    "planning": _l("planning"),
    "boarding": _l("boarding"),
    "departed": _l("departed"),
    "arrived": _l("arrived"),
    "cancelled": _l("cancelled"),
    # destination bands of the transport subsidy, and its claims' statuses
    "outside_far": _l("outside the province, far"),
    "outside_near": _l("outside the province, near"),
    "inside_province": _l("inside the province"),
    "due": _l("due"),
    "approved": _l("approved"),
    # placement status
    "proposed": _l("proposed"),
    "offered": _l("offered"),
    "accepted": _l("accepted"),
    "declined": _l("declined"),
    "working": _l("working"),
    "ended": _l("ended"),
    # reasons the clocks give (web.models.placement.NO_ANSWER_REASON)
    "no answer in time": _l("no answer in time"),
    "started other work": _l("started other work"),  # OTHER_WORK_REASON
    "term ended": _l("term ended"),  # TERM_ENDED_REASON
    # welfare-post term steps
    "renewed": _l("renewed"),
    # a request for a welfare post (web.models.welfare.PostRequestStatus)
    "pending": _l("waiting for an answer"),
    "assigned": _l("post assigned"),
    "refused": _l("refused"),
    # channels
    "opening": _l("nearby opening"),
    "batch": _l("transport batch"),
    "welfare_post": _l("welfare post"),
    # plan mode and status
    "optimal": _l("optimal"),
    "stable": _l("stable"),
    "greedy": _l("greedy (by hand)"),
    "queued": _l("queued"),
    "running": _l("running"),
    "done": _l("done"),
    "failed": _l("failed"),
    "confirmed": _l("confirmed"),
    # employer kinds
    "workshop": _l("poverty-alleviation workshop"),
    "enterprise": _l("enterprise"),
    "labor_agency": _l("labor agency"),
    # welfare post types
    "cleaner": _l("cleaner"),
    "road_keeper": _l("road keeper"),
    "forest_ranger": _l("forest ranger"),
    "water_keeper": _l("water keeper"),
    "patrol": _l("patrol"),
    "elder_carer": _l("elder carer"),
    "other": _l("other"),
    # position sources
    "gps": _l("phone GPS"),
    "typed": _l("typed in"),
    "gazetteer": _l("gazetteer"),
    "township": _l("township's point"),
    "county_seat": _l("county seat"),
    "synthetic": _l("village's point (approximate)"),
    # why a household is under watch, and what the follow-up visit found (web.models.watch)
    "last_worker_ended": _l("last worker's job ended"),
    "post_term_ended": _l("welfare-post term ended, no other work"),
    "long_without_work": _l("without work too long"),
    "found_work": _l("found work"),
    "referred": _l("referred to work"),
    "support_needed": _l("needs support"),
    "no_change": _l("no change"),
    "not_met": _l("nobody at home"),
    # verifications: what, how, and post eligibility's finding
    "poverty_status": _l("poverty status"),
    "ability": _l("ability to work"),
    "post_eligibility": _l("welfare-post eligibility"),
    "visit": _l("home visit"),
    "document": _l("documents"),
    "registry": _l("registry check"),
    "eligible": _l("eligible"),
    "not_eligible": _l("not eligible"),
}

#: A fairness breakdown's dimensions (`matcher.fairness.DIMENSIONS`) and age bands, as pages name them.
FAIRNESS_DIMENSIONS = {
    "sex": _l("By sex"),
    "age_band": _l("By age"),
    "village": _l("By village"),
    "poverty": _l("By poverty status"),
    "ability": _l("By physical ability"),
}
AGE_BAND_LABELS = {
    "16-39": _l("16–39 years"),
    "40-49": _l("40–49 years"),
    "50-59": _l("50–59 years"),
    "60+": _l("60 and over"),
}


def group_label(dimension: str, code: str, villages: dict[str, str]) -> str:
    """A fairness group's name: a village's name, an age band, or the name of a code."""
    if dimension == "village":
        return villages.get(code, code)
    if dimension == "age_band":
        return str(AGE_BAND_LABELS.get(code, code))
    return label(code)


#: The words of a plan's quotas (matcher.quotas): bounds, groups, "per", units.
QUOTA_WORDS = {
    "at_most": _l("at most"),
    "at_least": _l("at least"),
    "village": _l("any one village"),
    "women": _l("women"),
    "registered_poor": _l("registered-poor households"),
    "monitored": _l("monitored households"),
    "poor": _l("poor households (registered or monitored)"),
    "disability": _l("people with disabilities"),
    "posting": _l("in each posting"),
    "plan": _l("over the whole plan"),
    "percent": _l("of the slots"),
    "count": _l("people"),
}


def quota_word(code: str) -> str:
    """A quota's code (bound, group, per, unit) in the page's language."""
    return str(QUOTA_WORDS.get(code, code))


def quota_sentence(quota: dict) -> str:
    """A stored quota as one line: "at most 40% of the slots · nearby opening · in each posting · any one village"."""
    amount = quota.get("percent") if quota.get("percent") is not None else quota.get("count")
    unit = "percent" if quota.get("percent") is not None else "count"
    shown = f"{amount:g}" if isinstance(amount, float) else str(amount)
    if unit == "percent":
        shown += "%"
    groups = " / ".join(quota_word(g) for g in quota.get("groups", []))
    return (
        f"{quota_word(quota.get('bound', ''))} {shown} {quota_word(unit)} · {label(quota.get('channel'))} · "
        f"{quota_word(quota.get('per', 'plan'))} · {groups}"
    )


#: What each audit action is called on the audit page (an action not listed shows its code).
AUDIT_ACTIONS = {
    "login": _l("logged in"),
    "login_failed": _l("failed login"),
    "login_locked": _l("login while locked out"),
    "logout": _l("logged out"),
    "create": _l("registered a record"),
    "update": _l("changed a record"),
    "read": _l("read a record"),
    "list": _l("read a list"),
    "candidates": _l("read candidates"),
    "report": _l("read a report"),
    "export": _l("exported (masked)"),
    "export_full_ids": _l("exported with full ID numbers"),
    "import": _l("imported a sheet"),
    "import_preview": _l("previewed an import"),
    "already_registered": _l("was told “already registered”"),
    "position_change": _l("moved a posting"),
    "offer": _l("made an offer"),
    "placement_offered": _l("offer made"),
    "placement_accepted": _l("offer accepted"),
    "placement_declined": _l("offer declined"),
    "placement_working": _l("started work"),
    "placement_ended": _l("work ended"),
    "checkin": _l("retention check-in"),
    "plan_created": _l("started a plan"),
    "plan_whatif": _l("tried a what-if on a plan"),
    "plan_confirmed": _l("confirmed a plan"),
    "referral": _l("referred a laborer"),
    "plan_assignment_removed": _l("removed a plan's assignment"),
    "plan_assignment_swapped": _l("changed a plan assignment's target"),
    "plan_export": _l("exported a plan's proposals"),
    "attendance": _l("recorded attendance"),
    "term_renewed": _l("renewed a welfare post's term"),
    "term_ended": _l("ended a welfare post's term"),
    "placement_lapsed": _l("offer lapsed"),
    "post_request_recorded": _l("recorded a request for a welfare post"),
    "post_request_refused": _l("refused a request for a welfare post"),
    "post_request_assigned": _l("a welfare post answered a request"),
    "post_request_overdue": _l("request for a welfare post overdue"),
    "batch_handover": _l("recorded a batch's handover"),
    "subsidy_due": _l("transport subsidy due"),
    "subsidy_approved": _l("approved a transport subsidy"),
    "subsidy_rates": _l("changed the transport subsidy amounts"),
    "follow_up_opened": _l("household put under watch"),
    "follow_up_visited": _l("follow-up visit recorded"),
    "follow_up_closed": _l("follow-up closed"),
    "verification_recorded": _l("verification recorded"),
    "learned_weight": _l("decided the learned model's weight"),
}


def action_label(action: str) -> str:
    """The display name of an audit action (its code when there is none)."""
    return str(AUDIT_ACTIONS[action]) if action in AUDIT_ACTIONS else action


#: What each kind of record is called (audit trail, error messages), by its table name.
ENTITIES = {
    "user": _l("user"),
    "employer": _l("employer"),
    "opening": _l("opening"),
    "transport_batch": _l("transport batch"),
    "pickup_point": _l("pickup point"),
    "household": _l("household"),
    "laborer": _l("laborer"),
    "placement": _l("placement"),
    "retention_checkin": _l("retention check-in"),
    "plan": _l("plan"),
    "plan_assignment": _l("plan assignment"),
    "plan_change": _l("plan change"),
    "learned_weight": _l("learned model's weight"),
    "region": _l("region"),
    "welfare_post": _l("welfare post"),
    "welfare_attendance": _l("attendance"),
    "welfare_term_step": _l("welfare-post term step"),
    "api_token": _l("API token"),
    "post_request": _l("request for a welfare post"),
    "handover_passenger": _l("passenger at a handover"),
    "subsidy_claim": _l("transport subsidy claim"),
    "subsidy_rate": _l("transport subsidy amounts"),
    "follow_up": _l("follow-up"),
    "verification": _l("verification"),
}


def entity_label(entity: str | None) -> str:
    """The display name of a kind of record (its table name when there is none)."""
    if not entity:
        return ""
    return str(ENTITIES[entity]) if entity in ENTITIES else entity


#: The names of the details an audit event records (web.services.accounts.audit callers).
DETAIL_KEYS = {
    "weight": _l("weight"),
    "model_auc": _l("learned model's AUC"),
    "hand_auc": _l("hand score's AUC"),
    "n_test": _l("held-out check-ins"),
    "filter": _l("filters"),
    "filters": _l("filters"),
    "ids": _l("records"),
    "laborers": _l("laborers"),
    "households": _l("households"),
    "placements": _l("placements"),
    "rows": _l("rows"),
    "shown": _l("shown"),
    "target": _l("target"),
    "mode": _l("mode"),
    "page": _l("page"),
    "village": _l("village"),
    "status": _l("status"),
    "show": _l("show"),
    "report": _l("report"),
    "region": _l("region"),
    "on": _l("on"),
    "start": _l("from"),
    "end": _l("to"),
    "plan": _l("plan"),
    "channel": _l("channel"),
    "batch": _l("batch"),
    "full_ids": _l("full ID numbers"),
    "without_work": _l("without work"),
    "rematch": _l("re-match"),
    "fields": _l("fields"),
    "changed": _l("changed"),
    "from": _l("from"),
    "to": _l("to"),
    "reason": _l("reason"),
    "note": _l("note"),
    "day": _l("day"),
    "count": _l("count"),
    "offers": _l("offers"),
    "created": _l("created"),
    "errors": _l("errors"),
    "file": _l("file"),
    "kind": _l("kind"),
    "q": _l("search"),
    "user": _l("user"),
    "role": _l("role"),
    "action": _l("action"),
    "entity": _l("record"),
    "workshops": _l("new workshops"),
    "batches": _l("new batches"),
    "welfare_posts": _l("new welfare posts"),
    "commute_extra_km": _l("longer commute (km)"),
    "month": _l("month"),
    "days": _l("days present"),
    "via": _l("via"),
    "laborer_id": _l("laborer"),
    "receipt": _l("receipt"),
    "due_on": _l("due"),
    "answer_by": _l("answer by"),
    "household_id": _l("household"),
    "placement_id": _l("placement"),
    "arrived": _l("arrived"),
    "absent": _l("did not travel"),
    "year": _l("year"),
}

#: The offices' reports (web.services.reports.REPORTS), by name.
REPORT_TITLES = {
    "households-without-work": _l("Households still without work"),
    "workshop-recognition": _l("Workshop recognition list"),
    "batch-manifest": _l("Transport batch manifest"),
    "welfare-roster": _l("Welfare post roster"),
    "welfare-public-notice": _l("Public notice of welfare-post holders"),
    "placements-by-channel": _l("Placements by channel and month"),
}

#: Roles, as the audit trail and account pages name them.
#: What each kind of inbox message says (web.models.inbox.MessageKind), filled from its parameters.
MESSAGE_TEXTS = {
    "offer_lapsed": _l("The offer of %(target)s to %(laborer)s lapsed: no answer in time (due %(answer_by)s)."),
    "offer_reminder": _l("Please answer the offer of %(target)s to %(laborer)s by %(answer_by)s."),
    "welfare_post_vacated": _l(
        "%(laborer)s started other work and left the welfare post %(post)s; proposed next: %(candidate)s."
    ),
    "welfare_term_ending": _l("The term of the welfare post %(post)s ends on %(term_end_on)s: renew or end it."),
    "post_request_overdue": _l(
        "The request for a welfare post %(receipt)s of %(laborer)s (household %(household)s) is overdue: "
        "it was due by %(due_on)s."
    ),
    "post_request_answered": _l("The request for a welfare post %(receipt)s of %(laborer)s was answered."),
    "batch_arrived": _l("The batch %(batch)s arrived on %(day)s: %(arrived)s arrived, %(absent)s did not travel."),
    "subsidy_due": _l("%(count)s transport subsidy claims became due on %(day)s; they wait for approval."),
    "household_flagged": _l("Household %(household)s (%(head)s) lost its work: please visit by %(due_on)s."),
    "follow_up_overdue": _l("The follow-up visit to household %(household)s (%(head)s) was due by %(due_on)s."),
    "verification_expired": _l(
        "A verification of %(person)s (household %(household)s) expired on %(valid_until)s: please check again."
    ),
}


class _Params(dict):
    """A message's parameters; one the sentence names but the message lacks shows as a dash."""

    def __missing__(self, key: str) -> str:
        return "—"


def message_text(message: Any) -> str:
    """An inbox message in the reader's language, from its kind and parameters."""
    text = MESSAGE_TEXTS.get(message.kind)
    if text is None:
        return _("A message of a kind this version does not know.")
    params = _Params({key: ("—" if value is None else value) for key, value in (message.params or {}).items()})
    return str(text) % params


ROLES = {"cadre": _l("village cadre"), "employer": _l("employer"), "office": _l("office")}


def _detail_value(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        return "（" + audit_details(value) + "）" if value else "—"
    if isinstance(value, list):
        if len(value) > 5 and all(isinstance(v, int) for v in value):
            return _("%(n)s records (no. %(first)s …)", n=len(value), first=value[0])
        return ", ".join(_detail_value(v) for v in value) or "—"
    if isinstance(value, str):
        kind, _space, number = value.partition(" ")
        if number.isdigit() and kind in ENTITIES:  # "opening 12"
            return f"{entity_label(kind)} {number}"
        if number.isdigit() and kind in LABELS:  # a channel's target: "batch 8"
            return f"{label(kind)} {number}"
        if value in ROLES:
            return str(ROLES[value])
        if value in ENTITIES:
            return entity_label(value)
        if value in AUDIT_ACTIONS:
            return action_label(value)
        if value in REPORT_TITLES:
            return str(REPORT_TITLES[value])
        return label(value)
    return str(value)


def audit_details(detail: dict | None) -> str:
    """An audit event's details as words in the page's language: "records: 20 records (no. 45 …); rows: 20"."""
    if not detail:
        return ""
    parts = []
    for key, value in detail.items():
        name = str(DETAIL_KEYS[key]) if key in DETAIL_KEYS else key.replace("_", " ")
        parts.append(f"{name}: {_detail_value(value)}")
    return "; ".join(parts) if lang() == "en" else "；".join(parts)


#: Messages the services raise in English, listed here so that they are extracted and translated.
SERVICE_MESSAGES = (
    _l("already registered"),
    _l("too many “already registered” answers this hour; try again later"),
    _l("moved too often in the last 24 hours; try again tomorrow"),
    _l("unknown household"),
    _l("unknown region"),
    _l("not a village"),
    _l("not one of your villages"),
    _l("outside your region"),
    _l("give latitude and longitude together"),
    _l("must not be greater than max_age"),
    _l("must not be before term_start_on"),
    _l("at least one pickup point"),
    _l("a welfare post belongs to a village or township"),
    _l("does not match the birth date given"),
    _l("does not match the sex given"),
    _l("say why (a reason is required)"),
    _l("your role may not do this"),
    _l("this laborer already holds an offer for this target"),
    _l("this household already holds a welfare post"),
    _l("slots were taken since the plan ran; run the plan again"),
    _l("a household in this plan received a welfare post meanwhile; run the plan again"),
    _l("the record breaks a rule of the database"),
    _l("the change clashes with a record saved meanwhile; nothing was saved"),
    _l("use optimal, stable or greedy"),
    _l("this laborer has accepted an offer or is at work; ask for a re-match to offer more"),
    _l("this laborer already holds as many unanswered offers as allowed; wait for an answer first"),
    _l("these laborers have accepted work or been offered as much as allowed since the plan ran; run the plan again"),
    _l("fewer than are already held by offers and placements"),
    _l("interrupted"),
    _l("this plan is waiting for a runner; only a failed plan is run again"),
    _l("this plan is running; only a failed plan is run again"),
    _l("this plan has finished; only a failed plan is run again"),
    _l("this plan was confirmed; only a failed plan is run again"),
    _l("already taken"),
    _l("unknown employer"),
    _l("must not be before start"),
    _l("wrong username or password"),
    _l("the token is unknown, expired or revoked"),
    _l("a bearer token is required (POST /api/v1/auth/token)"),
    _l("give exactly one of county_code or region"),
    _l("on input only gps or typed"),
    _l("a cadre needs at least one village"),
    _l("an employer user needs an employer"),
    _l("an office user needs a region"),
)


def label(value: Any) -> str:
    """The display name of an enumeration value (its code when there is none)."""
    if value is None:
        return ""
    key = getattr(value, "value", value)
    if key in LABELS:
        return str(LABELS[key])
    # Job types are an open vocabulary: the matcher names the common ones in both languages.
    return job_label(str(key), "en" if str(get_locale()) == "en" else "zh")


def report_cell(column: Any, value: Any) -> Any:
    """A report's value as a person reads it: a coded column's name, yes/no for flags, numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if getattr(column, "coded", False):
        return label(value)
    if isinstance(value, LazyString):  # a row's own words (a total row's "Total")
        return str(value)
    return value


def report_workbook(report: Any) -> bytes:
    """A report's XLSX file with the names of its codes, in Chinese whatever the page's language
    (the offices' spreadsheets are; the header row is Chinese too)."""
    with force_locale("zh"):
        return report.to_xlsx(report_cell)


def km(distance: float | None) -> str:
    """A distance to 0.1 km, the precision every page and export shows."""
    return "" if distance is None else f"{distance:.1f}"


def figure(value: Any, key: str = "") -> str:
    """A plan report's figure: '—' when missing, distances (keys ending in _km) to 0.1 km."""
    if value is None:
        return "—"
    return km(value) if key.endswith("_km") else str(value)


@dataclass(frozen=True)
class YearOnYear:
    """A year-on-year change as a page shows it: the figure, or '—' and why not."""

    text: str
    reason: str = ""


def year_on_year(change_pct: Any, base: int) -> YearOnYear:
    """The change in % when the figure a year before is at least YOY_MIN_BASE (configuration);
    else '—' with the reason (a change on a base of 2 says nothing)."""
    from flask import current_app

    minimum = current_app.config["YOY_MIN_BASE"]
    if not base:
        return YearOnYear("—", _("nothing a year before to compare with"))
    if base < minimum or change_pct is None:
        return YearOnYear(
            "—", _("only %(n)s a year before, fewer than %(min)s: too few to compare", n=base, min=minimum)
        )
    return YearOnYear(f"{change_pct:+.1f} %")


def lang() -> str:
    """'zh' or 'en': which of the matcher's sentences to show."""
    return "en" if str(get_locale()) == "en" else "zh"


def translated(message: Any) -> str:
    """A service's message in the page's language, where the catalog has it (`web.errors.words`)."""
    return words(message)


def yuan(cents: int | None) -> str:
    """Integer cents as yuan with two decimals."""
    return "" if cents is None else f"{cents / 100:,.2f}"


def sentences(explanation: dict | None, skip: tuple[str, ...] = ()) -> list[str]:
    """The factor sentences of a stored explanation, in the page's language (factors in `skip` left out)."""
    language = lang()
    return [
        factor.zh if language == "zh" else factor.en
        for factor in stored_factors(explanation)
        if factor.name not in skip
    ]


def local_day(moment: datetime | None) -> str:
    """A stored UTC time as the local date (lists show the day in the deployment's time zone)."""
    return "" if moment is None else clock.local_date(moment).isoformat()


def local_time(moment: datetime | None) -> str:
    """A stored UTC time as local date and time, for pages."""
    if moment is None:
        return ""
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")


#: A match's score in words (thresholds MATCH_SCORE_GOOD and MATCH_SCORE_FAIR in the configuration).
SCORE_WORDS = {"good": _l("very suitable"), "fair": _l("suitable"), "weak": _l("barely suitable")}


def score_words(score: float) -> dict[str, str]:
    """A score as a word (很合适 / 合适 / 勉强) and what it means, for a `<details>` beside it."""
    good, fair = current_app.config["MATCH_SCORE_GOOD"], current_app.config["MATCH_SCORE_FAIR"]
    level = "good" if score >= good else "fair" if score >= fair else "weak"
    meaning = _(
        "The matcher scores every suitable job from 0 to 1 by distance from home, the wishes stated, "
        "physical fit and age; this one has %(score)s. From %(good)s up it reads “%(good_word)s”, "
        "from %(fair)s up “%(fair_word)s”, below that “%(weak_word)s”.",
        score=f"{score:.2f}",
        good=f"{good:g}",
        fair=f"{fair:g}",
        good_word=SCORE_WORDS["good"],
        fair_word=SCORE_WORDS["fair"],
        weak_word=SCORE_WORDS["weak"],
    )
    return {"level": level, "word": str(SCORE_WORDS[level]), "meaning": meaning}


def joined(texts) -> str:
    """Sentences joined as the page's language joins them (；in Chinese), each said once."""
    seen: list[str] = []
    for text in texts:
        if text and text not in seen:
            seen.append(text)
    return ("；" if lang() == "zh" else "; ").join(seen)


#: The import sheet's columns by name, in the page's language (the sheet itself has Chinese headers).
IMPORT_COLUMNS = {
    "household_code": _l("Household code"),
    "village_code": _l("Village code"),
    "head_name": _l("Head of household"),
    "poverty_status": _l("Poverty status"),
    "name": _l("Name"),
    "id_number": _l("ID number"),
    "phone": _l("Phone"),
    "physical_ability": _l("Physical ability"),
    "skills": _l("Skills"),
    "work_area": _l("Where they will work"),
    "max_commute_km": _l("Longest commute (km)"),
    "job_types": _l("Wanted kinds of work"),
    "pay_type": _l("Preferred pay"),
    "needs_flexible_hours": _l("Needs flexible hours"),
    "has_disability": _l("Has a disability"),
    "status": _l("Employment status"),
    "over_age_confirmed": _l("Over the working age, still able to work"),
}
