"""Column (struct-of-arrays) encodings of laborers and targets for vectorised rules and scores.

Rules and scores are written once, over numpy columns; the scalar API (``rules.check``,
``scoring.score``) explains a single pair and is kept equal to the columns by tests. Set-valued
fields (skills, preferred job types) become bit masks over a vocabulary taken from the targets,
since only words some target uses can ever matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from matcher.types import (
    ABILITY_RANK,
    DEMAND_RANK,
    KINDS,
    PAY_TYPES,
    POVERTY_STATUSES,
    WORK_AREAS,
    Laborer,
    Target,
)

NO_MIN_AGE = -1
NO_MAX_AGE = 10_000
NO_PAY = -1

KIND_CODE = {k: i for i, k in enumerate(KINDS)}
AREA_CODE = {a: i for i, a in enumerate(WORK_AREAS)}
PAY_CODE = {p: i for i, p in enumerate(PAY_TYPES)}
POVERTY_CODE = {p: i for i, p in enumerate(POVERTY_STATUSES)}

Values: TypeAlias = npt.NDArray[Any] | np.number[Any]
"""A column, or one numpy number: the factor and rule formulas take and give either alike."""

Flags: TypeAlias = npt.NDArray[np.bool_] | np.bool_ | bool
"""A boolean column, or one truth value."""

WordSet: TypeAlias = frozenset[str] | tuple[str, ...]
"""A set of words (skills, job types) as rows hold them: hashable, so that equal sets are encoded once."""


class Vocabulary:
    """Maps words (skills, job types) to bit positions and sets of words to uint64 mask rows.

    Bit 0 stands for "a word outside the vocabulary": a target requiring an unknown skill gets it,
    and no laborer ever holds it, so such a requirement is never met by accident.
    """

    UNKNOWN_BIT = 0

    def __init__(self, words: Iterable[str]):
        self.index = {w: i for i, w in enumerate(sorted(set(words)), start=1)}
        self.n_words = -(-(len(self.index) + 1) // 64)

    def masks(self, sets: Sequence[WordSet], *, mark_unknown: bool = False) -> np.ndarray:
        """One (n_words,) uint64 row per set (of words).

        Unknown words set bit 0 if ``mark_unknown``, else are dropped.
        """
        # Few distinct sets recur across many rows (skills, wished job types): encode each once.
        distinct: dict[WordSet, int] = {}
        code = np.fromiter((distinct.setdefault(words, len(distinct)) for words in sets), np.int64, count=len(sets))
        out = np.zeros((len(distinct), self.n_words), np.uint64)
        index = self.index
        unknown = self.UNKNOWN_BIT if mark_unknown else None
        for row, words in enumerate(distinct):
            for w in words:
                bit = index.get(w, unknown)
                if bit is not None:
                    out[row, bit >> 6] |= np.uint64(1 << (bit & 63))
        return out[code]


def mask_missing(required: np.ndarray, held: np.ndarray) -> np.ndarray:
    """True where some required bit is not held (row-wise over mask arrays)."""
    missing: np.ndarray = ((required & ~held) != 0).any(axis=-1)
    return missing


def mask_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where two mask rows share a bit."""
    overlap: np.ndarray = ((a & b) != 0).any(axis=-1)
    return overlap


def age_years(birth_y: Values, birth_md: Values, on_y: Values, on_md: Values) -> Values:
    """Completed years between a birth (year, month*100+day) and a date; vectorised."""
    return on_y - birth_y - (on_md < birth_md)


def date_code(y: npt.ArrayLike, md: Values) -> np.ndarray:
    """A date as the integer year*10000 + month*100 + day, which orders like the date itself."""
    return np.asarray(y, np.int64) * 10_000 + md


@dataclass(frozen=True)
class TargetColumns:
    """All targets as columns, plus their skill and job-type vocabularies."""

    targets: tuple[Target, ...]
    kind: np.ndarray  # int8 code into KINDS
    id: np.ndarray
    capacity: np.ndarray
    min_age: np.ndarray
    max_age: np.ndarray
    demand: np.ndarray
    skill_mask: np.ndarray  # (n, W) uint64
    job_mask: np.ndarray  # (n, Wj) uint64, the single job type as one bit
    pay: np.ndarray
    is_flexible: np.ndarray
    start_y: np.ndarray
    start_md: np.ndarray
    skills: Vocabulary
    job_types: Vocabulary

    @classmethod
    def from_targets(
        cls,
        targets: Sequence[Target],
        skills: Vocabulary | None = None,
        job_types: Vocabulary | None = None,
    ) -> TargetColumns:
        """Encode targets (once per data version), over their own vocabularies unless given ones."""
        targets = tuple(targets)
        skills = skills or Vocabulary(s for t in targets for s in t.skills)
        job_types = job_types or Vocabulary(t.job_type for t in targets)
        return cls(
            targets=targets,
            kind=np.array([KIND_CODE[t.kind] for t in targets], np.int8),
            id=np.array([t.id for t in targets], np.int64),
            capacity=np.array([t.capacity for t in targets], np.int64),
            min_age=np.array([NO_MIN_AGE if t.min_age is None else t.min_age for t in targets], np.int64),
            max_age=np.array([NO_MAX_AGE if t.max_age is None else t.max_age for t in targets], np.int64),
            demand=np.array([DEMAND_RANK[t.demand] for t in targets], np.int8),
            skill_mask=skills.masks([t.skills for t in targets], mark_unknown=True),
            job_mask=job_types.masks([(t.job_type,) for t in targets], mark_unknown=True),
            pay=np.array([NO_PAY if t.pay_type is None else PAY_CODE[t.pay_type] for t in targets], np.int8),
            is_flexible=np.array([t.is_flexible for t in targets], bool),
            start_y=np.array([t.start_on.year for t in targets], np.int64),
            start_md=np.array([t.start_on.month * 100 + t.start_on.day for t in targets], np.int64),
            skills=skills,
            job_types=job_types,
        )

    def __len__(self) -> int:
        return len(self.targets)

    @cached_property
    def pay_cents(self) -> np.ndarray:
        """Each target's pay amount in cents (0 where none is given), for the learned model's features."""
        return np.array([t.pay_cents or 0 for t in self.targets], np.int64)

    @cached_property
    def born_by(self) -> np.ndarray:
        """Latest birth date (``date_code``) old enough: age >= min_age on the start date."""
        return date_code(self.start_y - self.min_age, self.start_md)

    @cached_property
    def born_after(self) -> np.ndarray:
        """Birth dates (``date_code``) after this one are young enough: age <= max_age on the start date."""
        return date_code(self.start_y - self.max_age - 1, self.start_md)

    @cached_property
    def needs_skill(self) -> np.ndarray:
        """Whether a target requires any skill at all."""
        needs: np.ndarray = (self.skill_mask != 0).any(axis=1)
        return needs

    @cached_property
    def points(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every target point as flat columns ``(target row, lat, lon)``, in target order."""
        counts = np.fromiter((len(t.points) for t in self.targets), np.int64, len(self.targets))
        flat = np.array([p for t in self.targets for p in t.points], float).reshape(-1, 2)
        return np.repeat(np.arange(len(self.targets)), counts), flat[:, 0], flat[:, 1]


@dataclass(frozen=True)
class LaborerColumns:
    """Laborers as columns; masks are over a ``TargetColumns``' vocabularies."""

    laborers: tuple[Laborer, ...]
    id: np.ndarray
    household_id: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    birth_y: np.ndarray
    birth_md: np.ndarray
    is_female: np.ndarray
    ability: np.ndarray
    skill_mask: np.ndarray
    job_mask: np.ndarray
    has_job_pref: np.ndarray
    area: np.ndarray
    max_commute_km: np.ndarray
    pay: np.ndarray
    needs_flexible: np.ndarray
    poverty: np.ndarray
    household_has_work: np.ndarray
    household_has_post: np.ndarray
    is_working: np.ndarray
    order: np.ndarray
    #: Households under watch (issue 13, part 5): first among the poor in every mode's priority.
    household_flagged: np.ndarray
    village: np.ndarray  # int64 village code, 0 when unknown (quotas per village)
    has_disability: np.ndarray

    @classmethod
    def from_laborers(cls, laborers: Sequence[Laborer], skills: Vocabulary, job_types: Vocabulary) -> LaborerColumns:
        """Encode laborers against skill and job-type vocabularies (usually the targets')."""
        laborers = tuple(laborers)
        n = len(laborers)

        def column(values: Iterable[object], dtype: type | np.dtype) -> np.ndarray:
            return np.fromiter(values, dtype, count=n)  # no intermediate list: half the time

        return cls(
            laborers=laborers,
            id=column((p.id for p in laborers), np.int64),
            household_id=column((p.household_id for p in laborers), np.int64),
            lat=column((p.lat for p in laborers), float),
            lon=column((p.lon for p in laborers), float),
            birth_y=column((p.birth_on.year for p in laborers), np.int64),
            birth_md=column((p.birth_on.month * 100 + p.birth_on.day for p in laborers), np.int64),
            is_female=column((p.sex == "F" for p in laborers), bool),
            ability=column((ABILITY_RANK[p.ability] for p in laborers), np.int8),
            skill_mask=skills.masks([p.skills for p in laborers]),
            job_mask=job_types.masks([p.job_types for p in laborers]),
            has_job_pref=column((bool(p.job_types) for p in laborers), bool),
            area=column((AREA_CODE[p.work_area] for p in laborers), np.int8),
            max_commute_km=column((p.max_commute_km for p in laborers), float),
            pay=column((NO_PAY if p.pay_type is None else PAY_CODE[p.pay_type] for p in laborers), np.int8),
            needs_flexible=column((p.needs_flexible_hours for p in laborers), bool),
            poverty=column((POVERTY_CODE[p.poverty_status] for p in laborers), np.int8),
            household_has_work=column((p.household_has_work for p in laborers), bool),
            household_has_post=column((p.household_has_post for p in laborers), bool),
            is_working=column((p.is_working for p in laborers), bool),
            order=column((p.order for p in laborers), np.int64),
            household_flagged=column((p.household_flagged for p in laborers), bool),
            village=column((int(p.village_code or 0) for p in laborers), np.int64),
            has_disability=column((p.has_disability for p in laborers), bool),
        )

    @classmethod
    def from_columns(
        cls, columns: Mapping[str, Sequence[Any]], skills: Vocabulary, job_types: Vocabulary
    ) -> LaborerColumns:
        """Encode laborers given as columns (one sequence per ``Laborer`` field, e.g. a query's
        result) without building a ``Laborer`` per row; ``laborers`` stays empty."""
        c = columns
        birth = c["birth_on"]
        return cls(
            laborers=(),
            id=np.asarray(c["id"], np.int64),
            household_id=np.asarray(c["household_id"], np.int64),
            lat=np.asarray(c["lat"], float),
            lon=np.asarray(c["lon"], float),
            birth_y=np.array([b.year for b in birth], np.int64),
            birth_md=np.array([b.month * 100 + b.day for b in birth], np.int64),
            is_female=np.array([sex == "F" for sex in c["sex"]], bool),
            ability=np.array([ABILITY_RANK[a] for a in c["ability"]], np.int8),
            skill_mask=skills.masks([tuple(s or ()) for s in c["skills"]]),
            job_mask=job_types.masks([tuple(j or ()) for j in c["job_types"]]),
            has_job_pref=np.array([bool(j) for j in c["job_types"]], bool),
            area=np.array([AREA_CODE[a] for a in c["work_area"]], np.int8),
            max_commute_km=np.asarray(c["max_commute_km"], float),
            pay=np.array([NO_PAY if p is None else PAY_CODE[p] for p in c["pay_type"]], np.int8),
            needs_flexible=np.asarray(c["needs_flexible_hours"], bool),
            poverty=np.array([POVERTY_CODE[p] for p in c["poverty_status"]], np.int8),
            household_has_work=np.asarray(c["household_has_work"], bool),
            household_has_post=np.asarray(c["household_has_post"], bool),
            is_working=np.asarray(c["is_working"], bool),
            order=np.asarray(c["order"], np.int64),
            household_flagged=np.asarray(c.get("household_flagged", np.zeros(len(c["id"]), bool)), bool),
            village=np.array([int(v or 0) for v in c.get("village_code", [""] * len(c["id"]))], np.int64),
            has_disability=np.asarray(c.get("has_disability", [False] * len(c["id"])), bool),
        )

    def __len__(self) -> int:
        return len(self.id)

    @cached_property
    def birth_code(self) -> np.ndarray:
        """Birth date as a ``date_code``."""
        return date_code(self.birth_y, self.birth_md)

    @cached_property
    def positions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct home positions ``(position per row, lat, lon)``; a household's members share one."""
        if len(self.lat) == 0:
            return np.empty(0, np.int64), np.empty(0, float), np.empty(0, float)
        pairs = np.ascontiguousarray(np.column_stack([self.lat, self.lon]))
        # One 16-byte key per row: a 1-d unique is a plain sort, unlike unique(axis=0).
        keys = pairs.view(np.dtype((np.void, pairs.dtype.itemsize * 2))).ravel()
        _, first, position = np.unique(keys, return_index=True, return_inverse=True)
        return position.ravel().astype(np.int64), self.lat[first], self.lon[first]
