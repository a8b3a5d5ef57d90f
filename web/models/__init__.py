"""SQLAlchemy models of the whole domain (DESIGN §2), one module per area."""

from .account import ApiToken, AuditEvent, Role, User, UserVillage
from .base import (
    Ability,
    Base,
    Demand,
    PayType,
    PositionSource,
    PovertyStatus,
    Sex,
    WorkArea,
)
from .employment import (
    BatchStatus,
    Employer,
    EmployerKind,
    Opening,
    PickupPoint,
    PostingStatus,
    TransportBatch,
)
from .people import WORKING_STATUSES, Household, Laborer, LaborerStatus
from .placement import (
    HOLDING_STATUSES,
    TRANSITIONS,
    Channel,
    Placement,
    PlacementEvent,
    PlacementStatus,
    RetentionCheckin,
)
from .plan import Plan, PlanAssignment, PlanMode, PlanStatus
from .region import CODE_LENGTH, Region, RegionLevel
from .summary import SUMMARY_FIGURES, EmployerDayStat, RegionDayStat
from .version import DataVersion
from .welfare import WelfarePost, WelfarePostType

__all__ = [
    "Ability",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BatchStatus",
    "CODE_LENGTH",
    "Channel",
    "DataVersion",
    "Demand",
    "Employer",
    "EmployerDayStat",
    "EmployerKind",
    "HOLDING_STATUSES",
    "Household",
    "Laborer",
    "LaborerStatus",
    "Opening",
    "PayType",
    "PickupPoint",
    "Placement",
    "PlacementEvent",
    "PlacementStatus",
    "Plan",
    "PlanAssignment",
    "PlanMode",
    "PlanStatus",
    "PositionSource",
    "PostingStatus",
    "PovertyStatus",
    "Region",
    "RegionDayStat",
    "RegionLevel",
    "RetentionCheckin",
    "Role",
    "SUMMARY_FIGURES",
    "Sex",
    "TRANSITIONS",
    "TransportBatch",
    "User",
    "UserVillage",
    "WORKING_STATUSES",
    "WelfarePost",
    "WelfarePostType",
    "WorkArea",
]
