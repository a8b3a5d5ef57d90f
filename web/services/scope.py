"""The one access policy (DESIGN §7): may this user see or change this row, region or statistic?

Every answer about access comes from here: page and API views, services, reports and exports ask
this module and never filter by region or branch on a role for access themselves. What a user may
see is a where-clause (`visible`), so that a row outside their scope is simply not found: the answer
never hints that it exists.

- **What a role may do at all** (`may`, `require`, `GATES`): the role gates of the pages
  (`web.pages.common.role_blueprint`) and of the API (`web.api.security.require_user`) ask it, and
  so do the services (offers, plans, check-ins, the audit trail).
- **Rows of every model** (`visible`, `scoped`, `get_visible`):
  - cadre: households and laborers of their villages and those laborers' placements (read and
    write); employers, openings, batches and welfare posts of their villages' counties (read only);
  - cadre and office: households' requests for welfare posts (`PostRequest`) by the household's village;
  - employer: its own employer record, openings and batches (read and write) and the placements on
    them; no people's registers, no welfare posts, no plans;
  - office: everything in its region (people by their village, placements by their laborer's
    village, plans by the region they run for), and the audit trail of its region's users;
  - follow-ups and verifications (issue 13) are seen, by cadres and offices, where their household is.
- **Changes** (`covers_village`, `covers_region`, `may_step`): where a user may register people or
  place postings, and which steps of a placement's lifecycle their role takes.
- **Regions and statistics** (`in_scope`, `sees_region`, `statistics_region`): an office reads the
  figures of any region inside its own, a cadre those of one of their villages; the dashboard is the
  offices'. **Reports and exports** (`report_scope`): read within the user's area, narrowed to a
  chosen region; an employer reads only the passenger manifests of its own batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from ..errors import NotFoundError, PermissionDeniedError
from ..models import (
    AuditEvent,
    Employer,
    FollowUp,
    Household,
    Laborer,
    Opening,
    PickupPoint,
    Placement,
    PlacementStatus,
    Plan,
    PostRequest,
    Region,
    Role,
    SubsidyClaim,
    TransportBatch,
    User,
    UserVillage,
    Verification,
    WelfarePost,
)
from .regions import in_region

CADRE, EMPLOYER, OFFICE = Role.CADRE, Role.EMPLOYER, Role.OFFICE


# -- what a role may do at all -----------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """The roles that may do a thing at all (within their scope), and what the others are told."""

    roles: frozenset[Role]
    refusal: str = "your role may not do this"


#: Every gate of the pages, the API and the services, by name.
GATES: dict[str, Gate] = {
    "cadre_pages": Gate(frozenset({CADRE})),
    "employer_pages": Gate(frozenset({EMPLOYER})),
    "office_pages": Gate(frozenset({OFFICE})),
    "dashboard": Gate(frozenset({OFFICE}), "your role may not read the dashboard"),
    "reports": Gate(frozenset({OFFICE, CADRE}), "your role may not read reports"),
    "stats": Gate(frozenset({OFFICE, CADRE}), "your role may not read statistics"),
    "matches": Gate(frozenset({CADRE, OFFICE})),
    "offers": Gate(frozenset({CADRE, OFFICE}), "only cadres and offices make offers"),
    "checkins": Gate(frozenset({CADRE, OFFICE}), "check-ins are recorded by cadres and offices"),
    "plans": Gate(frozenset({OFFICE}), "only offices run plans"),
    "audit_trail": Gate(frozenset({OFFICE}), "only offices search the audit trail"),
    "mark_resumed": Gate(frozenset({OFFICE}), "only an office marks a workshop resumed"),
    "attendance": Gate(frozenset({CADRE, OFFICE}), "attendance is recorded by cadres and offices"),
    "welfare_admin": Gate(frozenset({OFFICE}), "only offices administer welfare posts' payroll and terms"),
    "post_requests": Gate(frozenset({CADRE, OFFICE}), "cadres record households' requests for welfare posts"),
    "answer_post_requests": Gate(frozenset({OFFICE}), "only an office answers a request for a welfare post"),
    "handover": Gate(frozenset({EMPLOYER, OFFICE}), "the employer or the office records a batch's handover"),
    "subsidies": Gate(frozenset({OFFICE}), "only offices keep the transport subsidy ledger"),
}


def may(user: User, action: str) -> bool:
    """May the user's role do `action` (a key of GATES) at all?"""
    return user.role in GATES[action].roles


def require(user: User, action: str) -> None:
    """403 unless the user's role may do `action` at all."""
    if not may(user, action):
        raise PermissionDeniedError(GATES[action].refusal)


#: Roles that may read each model at all (within their scope); the others get a 403.
READ_ROLES: dict[type, frozenset[Role]] = {
    Household: frozenset({CADRE, OFFICE}),
    Laborer: frozenset({CADRE, OFFICE}),
    Employer: frozenset({CADRE, EMPLOYER, OFFICE}),
    Opening: frozenset({CADRE, EMPLOYER, OFFICE}),
    TransportBatch: frozenset({CADRE, EMPLOYER, OFFICE}),
    WelfarePost: frozenset({CADRE, OFFICE}),
    Placement: frozenset({CADRE, EMPLOYER, OFFICE}),
    Plan: frozenset({OFFICE}),
    PostRequest: frozenset({CADRE, OFFICE}),
    AuditEvent: frozenset({OFFICE}),
    User: frozenset({OFFICE}),
    SubsidyClaim: frozenset({OFFICE}),
    FollowUp: frozenset({CADRE, OFFICE}),
    Verification: frozenset({CADRE, OFFICE}),
}

#: Roles that may create records of each model (within their scope).
CREATE_ROLES: dict[type, frozenset[Role]] = {
    Household: frozenset({CADRE, OFFICE}),
    Laborer: frozenset({CADRE, OFFICE}),
    FollowUp: frozenset({CADRE, OFFICE}),
    Verification: frozenset({CADRE, OFFICE}),
    Employer: frozenset({OFFICE}),
    Opening: frozenset({EMPLOYER, OFFICE}),
    TransportBatch: frozenset({EMPLOYER, OFFICE}),
    WelfarePost: frozenset({OFFICE}),
}

#: Roles that may change records of each model they can see; an employer keeps its own record.
UPDATE_ROLES: dict[type, frozenset[Role]] = {
    **CREATE_ROLES,
    Employer: frozenset({EMPLOYER, OFFICE}),
}

#: The lifecycle steps each role takes: an employer answers offers and records the work.
PLACEMENT_STEPS: dict[Role, frozenset[PlacementStatus]] = {
    EMPLOYER: frozenset(
        {
            PlacementStatus.ACCEPTED,
            PlacementStatus.DECLINED,
            PlacementStatus.WORKING,
            PlacementStatus.ENDED,
        }
    ),
    CADRE: frozenset(PlacementStatus),
    OFFICE: frozenset(PlacementStatus),
}


def check_role(model: type, user: User, roles: dict[type, frozenset[Role]] = READ_ROLES) -> None:
    """403 unless the user's role may do this to `model` at all."""
    if user.role not in roles[model]:
        raise PermissionDeniedError("your role may not do this")


def may_step(user: User, to_status: PlacementStatus) -> bool:
    """May the user's role move a placement (one they may see) to this status?"""
    return to_status in PLACEMENT_STEPS.get(user.role, frozenset())


# -- rows --------------------------------------------------------------------------------------


def county_codes(user: User) -> list[str]:
    """The counties (6-digit codes) a cadre's villages lie in."""
    return sorted({code[:6] for code in user.village_codes})


def _prefixed(column: Any, prefixes: list[str]) -> ColumnElement[bool]:
    """column starts with one of prefixes: a range on the code each, so that an index on column serves it."""
    prefixes = [p for p in prefixes if p]
    if not prefixes:
        return false()
    return or_(*(in_region(column, prefix) for prefix in prefixes))


def in_scope(column: Any, user: User) -> ColumnElement[bool]:
    """column (a region code) lies in the user's own area: an office's region, a cadre's villages."""
    if user.role is OFFICE:
        return _prefixed(column, [user.region_code or ""])
    if user.role is CADRE:
        return column.in_(user.village_codes) if user.village_codes else false()
    return false()


def _people_place(model: type, user: User) -> ColumnElement[bool]:
    """Where-clause for households and laborers: the village of the household."""
    clause = in_scope(Household.village_code, user)
    if model is Laborer:
        # A correlated EXISTS on the household's key: one index probe per laborer row, whether the
        # query fetches one laborer or lists many (an IN over the region's households would build
        # the whole set first). Correlated on Laborer alone: the outer query may join Household.
        return exists().where(Household.id == Laborer.household_id, clause).correlate(Laborer)
    return clause


def _placements(user: User) -> ColumnElement[bool]:
    """Where-clause on Placement: an employer's own postings; else the laborer's village."""
    if user.role is EMPLOYER:
        own_openings = select(Opening.id).where(Opening.employer_id == user.employer_id)
        own_batches = select(TransportBatch.id).where(TransportBatch.employer_id == user.employer_id)
        return or_(Placement.opening_id.in_(own_openings), Placement.batch_id.in_(own_batches))
    # Correlated on the placement: a newest-first page reads a few placements, not the region.
    return exists().where(
        Laborer.id == Placement.laborer_id,
        Household.id == Laborer.household_id,
        in_scope(Household.village_code, user),
    )


def _users_seen_by(office: User) -> ColumnElement[bool]:
    """Where-clause on User: the office itself and every user of its region (offices below it,
    cadres with a village in it, employers sited in it)."""
    region = office.region_code
    if not region:
        return User.id == office.id
    return or_(
        User.id == office.id,
        and_(User.role == OFFICE, _prefixed(User.region_code, [region])),
        and_(
            User.role == EMPLOYER,
            User.employer_id.in_(select(Employer.id).where(_prefixed(Employer.region_code, [region]))),
        ),
        and_(
            User.role == CADRE,
            User.id.in_(select(UserVillage.user_id).where(_prefixed(UserVillage.village_code, [region]))),
        ),
    )


def _audit_events(office: User) -> ColumnElement[bool]:
    """Where-clause on AuditEvent: the events of the users an office reviews.

    The rule, kept simple so that it can be checked: an event is in an office's trail when its user
    is the office itself or a user of its region; a failed login, which has no user, is in it when its
    username is one of those users'. Events about records of the region done by users from outside
    it are in the trail of those users' own office.
    """
    seen = select(User.id).where(_users_seen_by(office)).correlate(None)
    return or_(
        AuditEvent.user_id.in_(seen),
        and_(
            AuditEvent.user_id.is_(None),
            AuditEvent.username.in_(select(User.username).where(User.id.in_(seen)).correlate(None)),
        ),
    )


def sees_villages(user: User, village_codes: np.ndarray) -> np.ndarray:
    """Whether the user may see people of each village (12-digit codes as integers): `visible` over columns."""
    if user.role is CADRE:
        return np.isin(village_codes, np.array([int(code) for code in user.village_codes], np.int64))
    if user.role is not OFFICE:
        return np.zeros(len(village_codes), bool)
    prefix = user.region_code or ""
    if not prefix:
        return np.ones(len(village_codes), bool)
    scale = 10 ** (12 - len(prefix))
    return village_codes // scale == int(prefix)


def villages_key(user: User) -> tuple:
    """All that `sees_villages` depends on: users with equal keys see the same villages."""
    if user.role is CADRE:
        return (CADRE, tuple(sorted(user.village_codes)))
    return (user.role, user.region_code or "")


def _region_prefixes(user: User) -> list[str]:
    """The region prefixes a cadre or an office reads postings in."""
    return county_codes(user) if user.role is CADRE else [user.region_code or ""]


def visible(model: type[Any], user: User) -> ColumnElement[bool]:
    """The where-clause selecting the rows of `model` the user may see."""
    if user.role not in READ_ROLES[model]:
        return false()
    if model in (Household, Laborer):
        return _people_place(model, user)
    if model is Placement:
        return _placements(user)
    if model is PostRequest:
        # By the household's village, like the household itself.
        return (
            exists()
            .where(Household.id == PostRequest.household_id, in_scope(Household.village_code, user))
            .correlate(PostRequest)
        )
    if model in (FollowUp, Verification):
        # A follow-up or a verification is about a household: seen where the household is.
        place = in_scope(Household.village_code, user)
        return exists().where(Household.id == model.household_id, place).correlate(model)
    if model is Plan:
        return in_scope(Plan.region_code, user)
    if model is AuditEvent:
        return _audit_events(user)
    if model is User:
        return _users_seen_by(user)
    if model is SubsidyClaim:
        # A claim is the laborer's home county's: an office sees those of its region's villages.
        return in_scope(SubsidyClaim.village_code, user)
    if user.role is EMPLOYER:
        if model is Employer:
            return Employer.id == user.employer_id
        return model.employer_id == user.employer_id
    return _prefixed(model.region_code, _region_prefixes(user))


def sees_posting(user: User, model: type, region_code: str, employer_id: int | None) -> bool:
    """`visible` for one opening, batch or welfare post known by its region and employer, without a query
    (for the postings a cached ranker holds; kept equal to `visible` by tests)."""
    if user.role not in READ_ROLES[model]:
        return False
    if user.role is EMPLOYER:
        return employer_id == user.employer_id
    return any(region_code.startswith(prefix) for prefix in _region_prefixes(user))


def scoped(model: type, user: User) -> Select:
    """select(model) restricted to what the user may see; 403 if the role may see none of it."""
    check_role(model, user)
    return select(model).where(visible(model, user))


def get_visible(session: Session, model: type[Any], record_id: int, user: User, *, for_update: bool = False) -> Any:
    """The record if the user may see it (locked and re-read when for_update); 404 otherwise."""
    check_role(model, user)
    query = select(model).where(model.id == record_id, visible(model, user))
    if for_update:
        query = query.with_for_update(of=model).execution_options(populate_existing=True)
    row = session.scalar(query)
    if row is None:
        raise NotFoundError.of(model.__tablename__, record_id)
    return row


def candidate_pool(user: User) -> ColumnElement[bool]:
    """Where-clause on Laborer: whom a posting's candidates are drawn from for this user.

    An employer is shown the matcher's pick among all seeking laborers for its own posting (masked,
    never a register); everyone else only the laborers they may see.
    """
    return true() if user.role is EMPLOYER else visible(Laborer, user)


# -- changes -----------------------------------------------------------------------------------


def covers_village(user: User, village_code: str) -> bool:
    """May the user register people in this village?"""
    if user.role is CADRE:
        return village_code in user.village_codes
    prefix = user.region_code
    return user.role is OFFICE and bool(prefix and village_code.startswith(prefix))


def covers_region(user: User, region_code: str) -> bool:
    """May the user place a posting (employer, opening, batch, welfare post) or a plan in this region?"""
    if user.role is OFFICE:
        prefix = user.region_code
        return bool(prefix and region_code.startswith(prefix))
    # Employers post wherever their site or their coach is; cadres post nothing.
    return user.role is EMPLOYER


def region_filter(model: type[Any], prefix: str) -> ColumnElement[bool]:
    """The `region=` filter of lists: the record lies in the region with this code prefix (a range on
    an indexed code column, as for the scope itself; nothing lies in a prefix that is not a code)."""
    if not prefix.isdigit():
        return false()
    if model is Region:
        return in_region(Region.code, prefix)
    if model is Household:
        return in_region(Household.village_code, prefix)
    if model is Laborer:
        return Laborer.household_id.in_(
            select(Household.id).where(in_region(Household.village_code, prefix)).correlate(None)
        )
    if model is TransportBatch:
        # A batch belongs to its county, and also to every place one of its coaches stops.
        return or_(
            in_region(TransportBatch.region_code, prefix),
            exists().where(
                PickupPoint.batch_id == TransportBatch.id,
                in_region(PickupPoint.region_code, prefix),
            ),
        )
    return in_region(model.region_code, prefix)


# -- regions, statistics, reports ----------------------------------------------------------------


def sees_region(user: User, region_code: str) -> bool:
    """May the user read the figures of this region as a whole?

    An office: any region inside its own. A cadre: one of their villages (a township's figures
    would count villages that are not theirs).
    """
    if user.role is OFFICE:
        prefix = user.region_code
        return bool(prefix and region_code.startswith(prefix))
    if user.role is CADRE:
        return region_code in user.village_codes
    return False


def default_region(user: User) -> str:
    """Where a user's figures start: the office's region, or the cadre's first village."""
    if user.role is OFFICE and user.region_code:
        return user.region_code
    if user.role is CADRE and user.village_codes:
        return sorted(user.village_codes)[0]
    raise PermissionDeniedError(GATES["stats"].refusal)


def statistics_region(user: User, region_code: str | None = None) -> str:
    """The region whose figures the user asks for (their default when None).

    403 for a role that reads no figures; 404 for a region outside the user's area, exactly as for
    one that does not exist.
    """
    require(user, "stats")
    code = region_code or default_region(user)
    if not sees_region(user, code):
        raise NotFoundError.of("region", code)
    return code


@dataclass(frozen=True)
class RegionScope:
    """Which rows a user's report reads: an office's region (or a region inside it), a cadre's
    villages (those in the chosen region), or, for an employer, the passengers of its own batches."""

    user: User
    prefix: str | None  # office: a region prefix
    villages: tuple[str, ...]  # cadre: their villages (within the chosen region)

    def people(self) -> ColumnElement[bool]:
        """Where-clause on Household."""
        if self.prefix is not None:
            return in_region(Household.village_code, self.prefix)
        if not self.villages:
            return false()
        return Household.village_code.in_(self.villages)

    def placements(self) -> ColumnElement[bool]:
        """Where-clause on Placement joined with its Household (`Placement.household_id`)."""
        if self.user.role is EMPLOYER:
            return visible(Placement, self.user)
        return self.people()

    def places(self, column) -> ColumnElement[bool]:
        """Where-clause on a region_code column (posts: the village; employers: their counties)."""
        if self.prefix is not None:
            return in_region(column, self.prefix)
        if not self.villages:
            return false()
        return column.in_(self.villages)

    def counties(self, column) -> ColumnElement[bool]:
        """Where-clause on an employer's region: a cadre reads those of their villages' counties."""
        if self.prefix is not None:
            return in_region(column, self.prefix)
        if not self.villages:
            return false()
        return or_(*(in_region(column, county) for county in sorted({v[:6] for v in self.villages})))


#: Reports an employer reads (for its own batches only); offices and cadres read every report.
EMPLOYER_REPORTS = frozenset({"batch-manifest"})


def report_scope(user: User, region: str | None = None, *, report: str | None = None) -> RegionScope:
    """The user's report scope, narrowed to `region` when given (404 if outside the user's area)."""
    if user.role is OFFICE:
        own = user.region_code or ""
        chosen = region or own
        if not own or not chosen.isdigit() or not chosen.startswith(own):
            raise NotFoundError.of("region", chosen)
        return RegionScope(user, chosen, ())
    if user.role is CADRE:
        villages = tuple(sorted(v for v in user.village_codes if v.startswith(region or "")))
        if region and not villages:
            raise NotFoundError.of("region", region)
        return RegionScope(user, None, villages)
    if user.role is EMPLOYER and report in EMPLOYER_REPORTS:
        if region:
            raise NotFoundError.of("region", region)
        return RegionScope(user, None, ())
    raise PermissionDeniedError(GATES["reports"].refusal)
