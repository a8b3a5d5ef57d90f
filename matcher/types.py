"""The engine's vocabulary: laborers, targets (openings, batches, welfare posts) and configuration.

Everything here is a frozen, slotted dataclass: the web layer converts database rows into these,
and the engine never mutates them. ``Config`` holds every threshold and weight the engine uses, so
no rule or score carries a literal of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

KINDS: tuple[str, ...] = ("opening", "batch", "welfare_post")
"""Target kinds in the order policy prefers them (nearby openings, transport batches, welfare posts)."""

JOB_KINDS: tuple[str, ...] = ("opening", "batch")
"""Kinds filled in the first ("jobs") stage of a plan."""

ABILITY_RANK: dict[str, int] = {"none": 0, "light": 1, "moderate": 2, "full": 3}
"""Physical ability as a rank; ``none`` matches no work at all."""

DEMAND_RANK: dict[str, int] = {"light": 1, "moderate": 2, "heavy": 3}
"""Physical demand of a target as a rank comparable with ``ABILITY_RANK``."""

JOB_TYPE_LABELS: dict[str, tuple[str, str]] = {
    "packaging": ("包装", "packaging"),
    "packing": ("包装", "packing"),
    "sewing": ("缝纫", "sewing"),
    "food_processing": ("食品加工", "food processing"),
    "food": ("食品加工", "food processing"),
    "handicraft": ("手工编织", "handicraft"),
    "farming": ("种植养殖", "farming"),
    "construction": ("建筑", "construction"),
    "assembly": ("组装", "assembly"),
    "factory": ("工厂普工", "factory"),
    "cleaning": ("保洁", "cleaning"),
    "care": ("护理", "care"),
    "logistics": ("物流", "logistics"),
    "cleaner": ("保洁员", "cleaner"),
    "road_keeper": ("护路员", "road keeper"),
    "forest_ranger": ("护林员", "forest ranger"),
    "water_keeper": ("管水员", "water keeper"),
    "patrol": ("巡逻员", "patrol"),
    "elder_carer": ("养老护理员", "elder care"),
}
"""Chinese and English names of the common job types; a type not listed is shown as it was typed."""


SKILL_LABELS: dict[str, tuple[str, str]] = {
    "sewing_machine": ("缝纫机", "sewing machine"),
    "forklift": ("叉车", "forklift"),
    "cooking": ("烹饪", "cooking"),
    "electrician": ("电工", "electrician"),
    "driving": ("驾驶", "driving"),
}
"""Chinese and English names of the common skills; a skill not listed is shown as it was typed."""


def _named(code: str, labels: dict[str, tuple[str, str]], language: str) -> str:
    names = labels.get(code)
    if names is None:
        return code
    return names[0] if language == "zh" else names[1]


def _code_of(name: str, labels: dict[str, tuple[str, str]]) -> str:
    name = name.strip()
    for code, (zh, en) in labels.items():
        if name in (code, zh, en):
            return code
    return name


def job_label(job_type: str, language: str) -> str:
    """A job type's name in 'zh' or 'en', or the type itself when it has none (e.g. typed in Chinese)."""
    return _named(job_type, JOB_TYPE_LABELS, language)


def skill_label(skill: str, language: str) -> str:
    """A skill's name in 'zh' or 'en', or the skill itself when it has none."""
    return _named(skill, SKILL_LABELS, language)


WORK_JOB_TYPES: tuple[str, ...] = (
    "packaging",
    "sewing",
    "food_processing",
    "handicraft",
    "farming",
    "construction",
    "assembly",
    "cleaning",
    "care",
    "logistics",
)
"""The job types offered as choices on forms (welfare post types are chosen separately)."""


def job_type_code(name: str) -> str:
    """The code of a job type given by its code or its Chinese or English name; else the name as typed."""
    return _code_of(name, JOB_TYPE_LABELS)


def skill_code(name: str) -> str:
    """The code of a skill given by its code or its Chinese or English name; else the name as typed."""
    return _code_of(name, SKILL_LABELS)


WORK_AREAS: tuple[str, ...] = ("local", "migrant", "any")
PAY_TYPES: tuple[str, ...] = ("piece", "hourly", "daily", "monthly")
POVERTY_STATUSES: tuple[str, ...] = ("registered_poor", "monitored", "non_poor")
SEXES: tuple[str, ...] = ("F", "M")


@dataclass(frozen=True, slots=True)
class Laborer:
    """A person seeking work, as the matcher sees them (the cadre acts for them)."""

    id: int
    household_id: int
    lat: float
    lon: float
    birth_on: date
    sex: str  # 'F' | 'M'
    ability: str  # 'full' | 'moderate' | 'light' | 'none'
    skills: frozenset[str]
    work_area: str  # 'local' | 'migrant' | 'any'
    max_commute_km: float
    job_types: frozenset[str]
    pay_type: str | None  # 'piece' | 'hourly' | 'daily' | 'monthly' | None (no preference)
    needs_flexible_hours: bool
    poverty_status: str  # 'registered_poor' | 'monitored' | 'non_poor'
    household_has_work: bool
    household_has_post: bool
    is_working: bool
    order: int  # registration order; the greedy baseline serves laborers in this order
    household_flagged: bool = False  # under watch: lost its work lately (issue 13, part 5)
    village_code: str = ""  # the household's village (quotas per village); "" when unknown
    has_disability: bool = False  # recorded by the cadre (quotas may reserve posts for it)


@dataclass(frozen=True, slots=True)
class Target:
    """Something a laborer can be placed into: an opening, a transport batch or a welfare post."""

    kind: str  # 'opening' | 'batch' | 'welfare_post'
    id: int  # unique within its kind
    title: str
    job_type: str
    points: tuple[tuple[float, float], ...]  # (lat, lon); one per pickup point for batches
    capacity: int  # free slots now
    min_age: int | None
    max_age: int | None
    demand: str  # 'light' | 'moderate' | 'heavy'
    skills: frozenset[str]  # required skills
    pay_type: str | None
    pay_cents: int | None
    is_flexible: bool
    start_on: date
    employer_id: int | None
    region_code: str
    live_offers: int = 0  # referrals and unanswered offers now (`matcher.congestion`)
    open_slots: int | None = None  # slots nobody has said yes to yet; None: the capacity (no offer out)

    @property
    def key(self) -> tuple[str, int]:
        """The (kind, id) pair that identifies this target across kinds."""
        return (self.kind, self.id)


@dataclass(frozen=True, slots=True)
class Config:
    """Every threshold and weight the engine uses; the defaults are the policy defaults of DESIGN §2.

    Distances
        ``max_pickup_km`` = 60: a batch is only proposed when one of its pickup points is this
        close to home. ``default_max_commute_km`` = 10: commuting limit the web layer fills in
        when a laborer gave none. ``explain_radius_factor`` = 1.5: ranking also looks this many
        times beyond the commuting limit (for batches, the pickup limit) to show the nearest targets
        of every channel a laborer is *not* eligible for (with "too far" as the reason).

    Score weights (soft score in [0, 1] is the weighted mean of the factors)
        ``weight_distance`` = 0.35 (closer is better), ``weight_preference`` = 0.25 (job type,
        pay type, local vs migrant), ``weight_physical`` = 0.2, ``weight_age`` = 0.2,
        ``weight_learned`` = 0.0 (the learned 90-day retention probability; stays 0 until the
        model beats the hand-weighted score on held-out data).

    Factor shapes
        ``overqualified_step`` = 0.15: physical fit lost per ability rank above the demand (a
        full-strength worker on light work fits a little less than a light-only one).
        ``default_min_age`` = 16 / ``default_max_age`` = 65: the age range assumed for age fit
        when a target sets none. ``age_margin_years`` = 5: age fit is 1 when at least this many
        years inside the range, falling linearly to 0 at a limit.
        ``no_preference_value`` = 0.5: the job-type or pay-type sub-score when the laborer stated
        no preference (or the target no pay type).

    Priority and plan objective (added to a placement's score)
        ``registered_poor_bonus`` = 0.2 and ``monitored_bonus`` = 0.1: per placed laborer of such
        a household ("give priority to the poor labor force"). ``without_work_bonus`` = 0.1: the
        priority a laborer from a household without work gets when targets rank candidates
        (``stable``, candidate lists); ``optimal`` models it exactly instead through
        ``household_bonus`` = 0.5, counted once for each household moved from without work to
        with work. ``light_welfare_bonus`` = 0.1: welfare posts prefer laborers who can only do
        light work. ``flagged_bonus`` = 0.15: a household under watch (its work ended lately, or it
        stayed without work too long) comes first among the poor, in every mode's priority.

    Solver
        ``score_scale`` = 10_000: scores become integer costs (score × scale, rounded) for the
        min-cost-flow solver; plan objectives are exact in these units.
        ``max_part_arcs`` = 2_000_000: independent components are packed into solver calls of at
        most about this many laborer–target arcs (a bigger component is solved alone).

    Congestion (`matcher.congestion`)
        ``referral_factor`` = 3: a posting carries at most this many live offers per open slot.
        ``congestion_tolerance`` = 0.02: among matches whose scores differ by less than this, the
        posting that has used less of its cap ranks first.
    """

    max_pickup_km: float = 60.0
    default_max_commute_km: float = 10.0
    explain_radius_factor: float = 1.5
    weight_distance: float = 0.35
    weight_preference: float = 0.25
    weight_physical: float = 0.2
    weight_age: float = 0.2
    weight_learned: float = 0.0
    overqualified_step: float = 0.15
    default_min_age: int = 16
    default_max_age: int = 65
    age_margin_years: float = 5.0
    no_preference_value: float = 0.5
    registered_poor_bonus: float = 0.2
    monitored_bonus: float = 0.1
    without_work_bonus: float = 0.1
    household_bonus: float = 0.5
    light_welfare_bonus: float = 0.1
    flagged_bonus: float = 0.15
    score_scale: int = 10_000
    max_part_arcs: int = 2_000_000
    referral_factor: float = 3.0
    congestion_tolerance: float = 0.02


DEFAULT_CONFIG = Config()
"""The configuration used when a caller passes none."""
