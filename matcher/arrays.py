"""Column (struct-of-arrays) encodings of laborers and targets for vectorised rules and scores.

Rules and scores are written once, over numpy columns; the scalar API (``rules.check``,
``scoring.score``) explains a single pair and is kept equal to the columns by tests. Set-valued
fields (skills, preferred job types) become bit masks over a vocabulary taken from the targets,
since only words some target uses can ever matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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


class Vocabulary:
    """Maps words (skills, job types) to bit positions and sets of words to uint64 mask rows.

    Bit 0 stands for "a word outside the vocabulary": a target requiring an unknown skill gets it,
    and no laborer ever holds it, so such a requirement is never met by accident.
    """

    UNKNOWN_BIT = 0

    def __init__(self, words: Iterable[str]):
        self.index = {w: i for i, w in enumerate(sorted(set(words)), start=1)}
        self.n_words = -(-(len(self.index) + 1) // 64)

    def masks(self, sets: Sequence[Iterable[str]], *, mark_unknown: bool = False) -> np.ndarray:
        """One (n_words,) uint64 row per set; unknown words set bit 0 if ``mark_unknown``, else are dropped."""
        out = np.zeros((len(sets), self.n_words), np.uint64)
        index = self.index
        unknown = self.UNKNOWN_BIT if mark_unknown else None
        for row, words in enumerate(sets):
            for w in words:
                bit = index.get(w, unknown)
                if bit is not None:
                    out[row, bit >> 6] |= np.uint64(1 << (bit & 63))
        return out


def mask_missing(required: np.ndarray, held: np.ndarray) -> np.ndarray:
    """True where some required bit is not held (row-wise over mask arrays)."""
    return ((required & ~held) != 0).any(axis=-1)


def mask_overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """True where two mask rows share a bit."""
    return ((a & b) != 0).any(axis=-1)


def age_years(birth_y, birth_md, on_y, on_md):
    """Completed years between a birth (year, month*100+day) and a date; vectorised."""
    return on_y - birth_y - (on_md < birth_md)


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
            min_age=np.array(
                [NO_MIN_AGE if t.min_age is None else t.min_age for t in targets], np.int64
            ),
            max_age=np.array(
                [NO_MAX_AGE if t.max_age is None else t.max_age for t in targets], np.int64
            ),
            demand=np.array([DEMAND_RANK[t.demand] for t in targets], np.int8),
            skill_mask=skills.masks([t.skills for t in targets], mark_unknown=True),
            job_mask=job_types.masks([(t.job_type,) for t in targets], mark_unknown=True),
            pay=np.array(
                [NO_PAY if t.pay_type is None else PAY_CODE[t.pay_type] for t in targets], np.int8
            ),
            is_flexible=np.array([t.is_flexible for t in targets], bool),
            start_y=np.array([t.start_on.year for t in targets], np.int64),
            start_md=np.array([t.start_on.month * 100 + t.start_on.day for t in targets], np.int64),
            skills=skills,
            job_types=job_types,
        )

    def __len__(self) -> int:
        return len(self.targets)


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

    @classmethod
    def from_laborers(
        cls, laborers: Sequence[Laborer], skills: Vocabulary, job_types: Vocabulary
    ) -> LaborerColumns:
        """Encode laborers against skill and job-type vocabularies (usually the targets')."""
        laborers = tuple(laborers)
        return cls(
            laborers=laborers,
            id=np.array([p.id for p in laborers], np.int64),
            household_id=np.array([p.household_id for p in laborers], np.int64),
            lat=np.array([p.lat for p in laborers], float),
            lon=np.array([p.lon for p in laborers], float),
            birth_y=np.array([p.birth_on.year for p in laborers], np.int64),
            birth_md=np.array(
                [p.birth_on.month * 100 + p.birth_on.day for p in laborers], np.int64
            ),
            is_female=np.array([p.sex == "F" for p in laborers], bool),
            ability=np.array([ABILITY_RANK[p.ability] for p in laborers], np.int8),
            skill_mask=skills.masks([p.skills for p in laborers]),
            job_mask=job_types.masks([p.job_types for p in laborers]),
            has_job_pref=np.array([bool(p.job_types) for p in laborers], bool),
            area=np.array([AREA_CODE[p.work_area] for p in laborers], np.int8),
            max_commute_km=np.array([p.max_commute_km for p in laborers], float),
            pay=np.array(
                [NO_PAY if p.pay_type is None else PAY_CODE[p.pay_type] for p in laborers], np.int8
            ),
            needs_flexible=np.array([p.needs_flexible_hours for p in laborers], bool),
            poverty=np.array([POVERTY_CODE[p.poverty_status] for p in laborers], np.int8),
            household_has_work=np.array([p.household_has_work for p in laborers], bool),
            household_has_post=np.array([p.household_has_post for p in laborers], bool),
            is_working=np.array([p.is_working for p in laborers], bool),
            order=np.array([p.order for p in laborers], np.int64),
        )

    @classmethod
    def from_columns(
        cls, columns: Mapping[str, Sequence], skills: Vocabulary, job_types: Vocabulary
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
            skill_mask=skills.masks([s or () for s in c["skills"]]),
            job_mask=job_types.masks([j or () for j in c["job_types"]]),
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
        )

    def __len__(self) -> int:
        return len(self.id)
