"""Reviewing a finished plan before confirming it: filter its proposals, export them, remove or move one.

Why: a plan proposes hundreds of placements at once; the office reads them by village, township,
channel or posting, sends each village's list to its cadre, and takes out or changes the few it
knows to be wrong (a laborer who left, a workshop that closed a line) before confirming what is left
(`plans.confirm_plan`, which re-checks everything again under row locks).

How a change stays sound: a removal only frees a slot. A move to another target is re-checked with
the matcher's own rules (`matcher.rules.check`, the same reasons a cadre reads) against that target as
it is now, counting as taken the free slots and the congestion cap's room (`caps.plan_capacities`) that
the plan's other proposals already use, and against the plan's one welfare post per household and
"welfare posts only for households without work" (a household member proposed for a job counts).
Each change is written to the plan's change log (`PlanChange`) and the audit trail, and the figures of
the plan's report that its proposals make (placed, households moved, commute, score) are recomputed;
the figures of the whole input (laborers, households without work) and the solver's objective stay as
solved, and the report says how many changes were made since.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from matcher import rules, scoring
from matcher.geo import haversine_km
from matcher.types import Config

from ..errors import ConflictError, NotFoundError, ValidationError, in_language
from ..models import (
    CHANNEL_FK,
    CHANNEL_MODELS,
    CHANNEL_ZH,
    CHANNELS,
    Household,
    Laborer,
    Plan,
    PlanAssignment,
    PlanChange,
    PlanChangeAction,
    PlanStatus,
    PovertyStatus,
    Region,
    User,
)
from ..spreadsheets import append_row
from . import caps, disclosure, scope
from .accounts import audit
from .convert import (
    ID_CHUNK,
    explanation_json,
    free_capacity,
    is_open,
    laborer_columns,
    solicitation_of,
    stored_factors,
    to_matcher_laborers,
    to_target,
)
from .regions import in_region

#: Why a plan cannot be reviewed, by its status (only a finished, unconfirmed plan can).
NOT_REVIEWABLE = _l("only a finished plan that is not yet confirmed can be changed")


@dataclass(frozen=True)
class ReviewFilter:
    """Which of a plan's proposals to show: by village, township, channel and posting (each optional)."""

    village: str | None = None  # 12-digit village code
    township: str | None = None  # 9-digit township code
    channel: str | None = None  # opening | batch | welfare_post
    posting: tuple[str, int] | None = None  # (kind, id)

    @classmethod
    def parse(
        cls,
        village: str | None = None,
        township: str | None = None,
        channel: str | None = None,
        posting: str | None = None,
    ) -> ReviewFilter:
        """Filters from request arguments; 422 naming the field when one is malformed."""
        village, township, channel, posting = (v.strip() if v else None for v in (village, township, channel, posting))
        if village and not re.fullmatch(r"[0-9]{12}", village):
            raise ValidationError.on("village", _l("a village code has 12 digits"))
        if township and not re.fullmatch(r"[0-9]{9}", township):
            raise ValidationError.on("township", _l("a township code has 9 digits"))
        if channel and channel not in CHANNELS:
            raise ValidationError.on("channel", _l("use opening, batch or welfare_post"))
        key = None
        if posting:
            kind, _, number = posting.partition(":")
            if kind not in CHANNELS or not re.fullmatch(r"[0-9]{1,10}", number) or int(number) > 2**31 - 1:
                raise ValidationError.on("posting", _l("a posting is kind:id, e.g. opening:12"))
            key = (kind, int(number))
        return cls(village or None, township or None, channel or None, key)

    def as_args(self) -> dict[str, str]:
        """The filter as request arguments (for links: the export of what is shown)."""
        args = {"village": self.village, "township": self.township, "channel": self.channel}
        if self.posting:
            args["posting"] = f"{self.posting[0]}:{self.posting[1]}"
        return {k: v for k, v in args.items() if v}


def plan_for_review(session: Session, user: User, plan_id: int, *, for_update: bool = False) -> Plan:
    """A plan the office may see; changes are refused (409) unless it is finished and not yet confirmed."""
    scope.require(user, "plans")
    plan = scope.get_visible(session, Plan, plan_id, user, for_update=for_update)
    if for_update and plan.status is not PlanStatus.DONE:
        raise ConflictError(NOT_REVIEWABLE, {"status": [NOT_REVIEWABLE]})
    return plan


def proposals_query(plan: Plan, filters: ReviewFilter) -> Select:
    """The plan's assignments meeting the filters, with their laborer and household, by village then id."""
    query = (
        select(PlanAssignment)
        .join(Laborer, Laborer.id == PlanAssignment.laborer_id)
        .join(Household, Household.id == Laborer.household_id)
        .where(PlanAssignment.plan_id == plan.id)
        .options(selectinload(PlanAssignment.laborer).selectinload(Laborer.household).selectinload(Household.village))
    )
    if filters.village:
        query = query.where(Household.village_code == filters.village)
    if filters.township:
        query = query.where(in_region(Household.village_code, filters.township))
    if filters.channel:
        query = query.where(getattr(PlanAssignment, CHANNEL_FK[filters.channel]).is_not(None))
    if filters.posting:
        kind, target_id = filters.posting
        query = query.where(getattr(PlanAssignment, CHANNEL_FK[kind]) == target_id)
    return query.order_by(Household.village_code, PlanAssignment.id)


def _assignment(session: Session, plan: Plan, assignment_id: int) -> PlanAssignment:
    row = session.scalar(
        select(PlanAssignment).where(PlanAssignment.id == assignment_id, PlanAssignment.plan_id == plan.id)
    )
    if row is None:
        raise NotFoundError.of("plan_assignment", assignment_id)
    return row


def _log(
    session: Session,
    plan: Plan,
    user: User,
    action: PlanChangeAction,
    row: PlanAssignment,
    from_key: tuple[str, int],
    note: str | None,
    remote_addr: str | None,
) -> PlanChange:
    to_kind, to_id = (row.channel.value, row.target_id) if action is PlanChangeAction.SWAPPED else (None, None)
    change = PlanChange(
        plan_id=plan.id,
        action=action,
        laborer_id=row.laborer_id,
        from_kind=from_key[0],
        from_target_id=from_key[1],
        to_kind=to_kind,
        to_target_id=to_id,
        note=(note or "").strip() or None,
        by_user_id=user.id,
    )
    session.add(change)
    session.flush()
    audit(
        session,
        f"plan_assignment_{action.value}",
        user=user,
        entity=plan,
        remote_addr=remote_addr,
        laborer_id=row.laborer_id,
        target=f"{from_key[0]}:{from_key[1]}" + (f" → {to_kind}:{to_id}" if to_kind else ""),
    )
    return change


def remove_assignment(
    session: Session,
    user: User,
    plan_id: int,
    assignment_id: int,
    *,
    note: str | None = None,
    remote_addr: str | None = None,
) -> PlanChange:
    """Take one proposal out of a finished plan (its slot is freed); logged on the plan, report recomputed."""
    plan = plan_for_review(session, user, plan_id, for_update=True)
    row = _assignment(session, plan, assignment_id)
    from_key = (row.channel.value, row.target_id)
    change = _log(session, plan, user, PlanChangeAction.REMOVED, row, from_key, note, remote_addr)
    session.delete(row)
    session.flush()
    refresh_report(session, plan)
    return change


def swap_assignment(
    session: Session,
    user: User,
    plan_id: int,
    assignment_id: int,
    kind: str,
    target_id: int,
    config: Config,
    *,
    note: str | None = None,
    remote_addr: str | None = None,
) -> PlanChange:
    """Move one proposal of a finished plan to another target, re-checked against the rules, the free
    slots and caps left by the plan's other proposals, and one welfare post per household; logged."""
    plan = plan_for_review(session, user, plan_id, for_update=True)
    row = _assignment(session, plan, assignment_id)
    if kind not in CHANNELS:
        raise ValidationError.on("kind", _l("use opening, batch or welfare_post"))
    if (kind, target_id) == (row.channel.value, row.target_id):
        raise ValidationError.on("target_id", _l("this is already the proposed target"))
    model = CHANNEL_MODELS[kind]
    target_row = scope.get_visible(session, model, target_id, user, for_update=True)
    if not session.scalar(select(func.count()).select_from(model).where(model.id == target_id, is_open(kind))):
        raise ConflictError(_l("this target takes nobody now"), {"target_id": [_l("this target takes nobody now")]})
    if not target_row.region_code.startswith(plan.region_code):
        raise ValidationError.on("target_id", _l("this target lies outside the plan's region"))
    # What the plan's other proposals already take of the target: its free slots, and its cap's room.
    others = (
        session.scalar(
            select(func.count())
            .select_from(PlanAssignment)
            .where(PlanAssignment.plan_id == plan.id, getattr(PlanAssignment, CHANNEL_FK[kind]) == target_id)
        )
        or 0
    )
    live, open_slots = solicitation_of(session, target_row)
    free = free_capacity(session, target_row)
    room = max(0, caps.cap_of(open_slots, config) - live)
    target = to_target(kind, target_row, min(free, room) - others, live_offers=live, open_slots=open_slots)
    (laborer,) = to_matcher_laborers(session, [row.laborer])
    if kind == "welfare_post":
        household = row.laborer.household_id
        mates = select(PlanAssignment).join(Laborer, Laborer.id == PlanAssignment.laborer_id)
        mates = mates.where(
            PlanAssignment.plan_id == plan.id, Laborer.household_id == household, PlanAssignment.id != row.id
        )
        for mate in session.scalars(mates):
            if mate.welfare_post_id is not None:
                laborer = replace(laborer, household_has_post=True)
            else:
                laborer = replace(laborer, household_has_work=True)
    distance = min(float(haversine_km(laborer.lat, laborer.lon, lat, lon)) for lat, lon in target.points)
    reasons = rules.check(laborer, target, distance, config)
    if reasons:
        raise ConflictError(
            in_language("；".join(r.zh for r in reasons), "; ".join(r.en for r in reasons)),
            {"target_id": [r.zh + " / " + r.en for r in reasons]},
        )
    score = scoring.score(laborer, target, distance, config)
    from_key = (row.channel.value, row.target_id)
    for column in CHANNEL_FK.values():
        setattr(row, column, None)
    setattr(row, CHANNEL_FK[kind], target_id)
    row.stage = "welfare" if kind == "welfare_post" else "jobs"
    row.score, row.distance_km, row.explanation = score.total, distance, explanation_json(score.codes)
    session.flush()
    change = _log(session, plan, user, PlanChangeAction.SWAPPED, row, from_key, note, remote_addr)
    refresh_report(session, plan)
    return change


def refresh_report(session: Session, plan: Plan) -> dict:
    """Recompute the figures of the plan's report that its proposals make, from the proposals left."""
    session.expire(plan, ["assignments"])
    rows = plan.assignments
    report = dict(plan.report or {})
    ids = [a.laborer_id for a in rows]
    by_id: dict[int, tuple[int, bool, str]] = {}
    for start in range(0, len(ids), ID_CHUNK):
        facts = laborer_columns(session, Laborer.id.in_(ids[start : start + ID_CHUNK]))
        by_id.update(
            zip(
                facts["id"],
                zip(facts["household_id"], facts["household_has_work"], facts["poverty_status"], strict=True),
                strict=True,
            )
        )
    moved = {by_id[i][0] for i in ids if not by_id[i][1]}
    poor_moved = {by_id[i][0] for i in ids if not by_id[i][1] and by_id[i][2] != PovertyStatus.NON_POOR.value}
    distances = np.array([a.distance_km for a in rows], float)
    report.update(
        placed=len(rows),
        placed_by_kind={kind: sum(1 for a in rows if a.channel.value == kind) for kind in CHANNELS},
        households_moved=len(moved),
        poor_households_moved=len(poor_moved),
        registered_poor_placed=sum(1 for i in ids if by_id[i][2] == PovertyStatus.REGISTERED_POOR.value),
        mean_commute_km=round(float(distances.mean()), 4) if len(rows) else 0.0,
        p90_commute_km=round(float(np.percentile(distances, 90)), 4) if len(rows) else 0.0,
        mean_score=round(float(np.mean([a.score for a in rows])), 4) if rows else 0.0,
        review_changes=session.scalar(
            select(func.count()).select_from(PlanChange).where(PlanChange.plan_id == plan.id)
        ),
    )
    plan.report = report
    session.flush()
    return report


def change_log(session: Session, plan: Plan) -> list[PlanChange]:
    """The plan's changes, oldest first, with who made them."""
    return list(
        session.scalars(
            select(PlanChange)
            .where(PlanChange.plan_id == plan.id)
            .options(selectinload(PlanChange.by_user), selectinload(PlanChange.laborer))
            .order_by(PlanChange.id)
        )
    )


def target_titles(session: Session, keys: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The titles of targets by (kind, id), one query per kind."""
    titles: dict[tuple[str, int], str] = {}
    for kind, model in CHANNEL_MODELS.items():
        ids = {i for k, i in keys if k == kind}
        if ids:
            found = session.execute(select(model.id, model.title).where(model.id.in_(ids)))
            titles.update(((kind, i), t) for i, t in found)
    return titles


#: The export's columns: its Chinese headers (the offices' and cadres' spreadsheets are Chinese).
EXPORT_HEADERS = ("村", "户编号", "姓名", "身份证号（已隐去）", "渠道", "岗位", "距离（公里）", "匹配度", "理由")


def export_xlsx(session: Session, user: User, plan: Plan, filters: ReviewFilter, *, remote_addr: str | None = None):
    """The plan's proposals meeting the filters as an XLSX workbook, one sheet per village (for its cadre);
    ID numbers masked, no cell a live formula. The export is audited. Returns (bytes, rows)."""
    rows = list(session.scalars(proposals_query(plan, filters)))
    titles = target_titles(session, [(a.channel.value, a.target_id) for a in rows])
    book = Workbook(write_only=True)
    sheets: dict[str, object] = {}
    used: set[str] = set()
    for a in rows:
        household = a.laborer.household
        code = household.village_code
        if code not in sheets:
            village: Region | None = household.village
            name = _sheet_name(f"{village.name if village else code} {code[-3:]}", used)
            sheet = book.create_sheet(name)
            append_row(sheet, EXPORT_HEADERS)
            sheets[code] = sheet
        append_row(
            sheets[code],
            [
                code,
                household.code,
                a.laborer.name,
                disclosure.mask_id_number(a.laborer.id_number),
                CHANNEL_ZH[a.channel.value],
                titles.get((a.channel.value, a.target_id), str(a.target_id)),
                round(a.distance_km, 1),
                round(a.score, 2),
                "；".join(f.zh for f in stored_factors(a.explanation)),
            ],
        )
    if not sheets:
        append_row(book.create_sheet("无"), EXPORT_HEADERS)
    buffer = io.BytesIO()
    book.save(buffer)
    audit(
        session,
        "plan_export",
        user=user,
        entity=plan,
        remote_addr=remote_addr,
        laborers=[a.laborer_id for a in rows][:200],
        rows=len(rows),
        filters=filters.as_args(),
    )
    return buffer.getvalue(), len(rows)


def _sheet_name(name: str, used: set[str]) -> str:
    """A sheet title Excel accepts (≤ 31 characters, none of []:*?/\\), unique in the workbook."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31]
    title, n = clean, 2
    while title in used:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(title)
    return title
