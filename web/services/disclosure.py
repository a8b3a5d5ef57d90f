"""What each role is shown of a person: the one field policy of the API, the pages and the exports.

Why it is strict. A resident ID number is region (6 digits) + birth date (8) + sequence (3, odd for
men) + check digit. Masking the middle eight digits hides exactly the birth date, so a list that
shows a birth date beside a masked number hands out the number in full; a masked number beside the
age leaves about 33 candidates. So every place that shows people asks `identity()` here:

- office, cadre, in a list, a report page or an export: the ID number masked to its first 6 and
  last 1 characters, no birth date, the age, the phone masked;
- office, cadre, one record read on its own, or an export asked for with full ID numbers (both
  audited): the full ID number, birth date and phone;
- employer, everywhere: no ID characters, no birth date, the age in whole years; the phone only of
  a laborer whose placement with this employer is accepted or working.

With the first six and the last character known, the birth date within a year (the age) and the sex,
some 16,000 numbers remain for every person, and nothing else shown beside them narrows that.

Distances and order shown to employers. An employer sees candidates only for its own postings,
only eligible ones, ordered by score alone (the matcher's priority order would tell who is
registered poor), and every distance in whole km measured from the laborer's *village* point, not
from the home: `employer_km()` and `village_distance_km()`. The score and its sentences are
recomputed from that distance, so no number in the answer carries the home position. This is what
makes probing by moving a posting useless: whatever positions an employer tries (by editing a
posting or creating new ones), it can at best find the village points, which the gazetteer publishes
anyway. Position edits of a posting by an employer are also audited (`position_change`) and limited
to `POSTING_MOVES_PER_DAY` per posting in any 24 hours (`services.registry.check_position_move`).
Distances of placements an employer holds are rounded to whole km too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import overload

from matcher.geo import geodesic_km

from .. import clock
from ..models import COMMITTED_STATUSES, Laborer, Placement, Role, Sex, User

#: A placement lets its employer see the laborer's phone once it is agreed (accepted or working).
PHONE_STATUSES = COMMITTED_STATUSES

#: How a masked ID number looks: the first six characters and the last one stay.
MASK_KEEP_START, MASK_KEEP_END = 6, 1


class View(Enum):
    """How a person is shown: among others (a list, a report, an export) or on their own."""

    LIST = "list"
    RECORD = "record"


@dataclass(frozen=True, slots=True)
class Identity:
    """The identifying fields of one laborer as one user is shown them (None = not shown)."""

    id_number: str | None
    birth_on: date | None
    age: int
    sex: Sex
    phone: str | None


def mask_id_number(number: str) -> str:
    """Keep the region and the check character: 141030***********X."""
    if len(number) <= MASK_KEEP_START + MASK_KEEP_END:
        return "*" * len(number)
    hidden = len(number) - MASK_KEEP_START - MASK_KEEP_END
    return number[:MASK_KEEP_START] + "*" * hidden + number[-MASK_KEEP_END:]


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last four digits of a phone number."""
    if not phone:
        return phone
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def employer_may_call(user: User, placement: Placement | None) -> bool:
    """An employer sees a phone only for its own placement that is accepted or working."""
    if placement is None or placement.status not in PHONE_STATUSES:
        return False
    posting = placement.opening or placement.batch
    return posting is not None and posting.employer_id == user.employer_id


def identity(
    user: User,
    laborer: Laborer,
    view: View,
    *,
    placement: Placement | None = None,
    today: date | None = None,
) -> Identity:
    """The laborer's ID number, birth date, age, sex and phone as this user may see them here."""
    age = laborer.age_on(today or clock.today())
    if user.role is Role.EMPLOYER:
        phone = laborer.phone if employer_may_call(user, placement) else None
        return Identity(None, None, age, laborer.sex, phone)
    if view is View.RECORD:
        return Identity(laborer.id_number, laborer.birth_on, age, laborer.sex, laborer.phone)
    return Identity(mask_id_number(laborer.id_number), None, age, laborer.sex, mask_phone(laborer.phone))


def sees_exact_distances(user: User) -> bool:
    """Offices and cadres see distances as measured; employers in whole km (see the docstring)."""
    return user.role is not Role.EMPLOYER


@overload
def employer_km(distance_km: float) -> int: ...
@overload
def employer_km(distance_km: None) -> None: ...
def employer_km(distance_km: float | None) -> int | None:
    """A distance as an employer sees it: whole km."""
    return None if distance_km is None else int(round(distance_km))


def village_distance_km(laborer: Laborer, points: list[tuple[float, float]]) -> float:
    """Geodesic km from the laborer's village point to the nearest of a posting's points."""
    village = laborer.household.village
    return min(geodesic_km((village.lat, village.lon), point) for point in points)


#: Who is shown an employer's contact (name and phone) on match cards and in offer texts: the cadre,
#: who passes it on to the laborer. Employers know their own; offices reach employers through their records.
EMPLOYER_CONTACT_ROLES = frozenset({Role.CADRE})


def sees_employer_contact(user: User) -> bool:
    """May the user be shown an employer's contact beside a match or in an offer text?"""
    return user.role in EMPLOYER_CONTACT_ROLES
