"""SQLAlchemy models of the whole domain (DESIGN §2), one module per area, and its vocabulary.

The vocabulary lives beside the enumerations it is made of and is imported from here wherever it is
needed, never written again: the status sets (`HOLDING_STATUSES` hold a slot, `AT_WORK_STATUSES` count
as at work with their dates, `PASSENGER_STATUSES` are a batch's passengers, `POOR_STATUSES`,
`WORKING_STATUSES` of laborers, ...) and the channel names (`CHANNELS`, their target models
`CHANNEL_MODELS`, placement columns `CHANNEL_FK`, Chinese names `CHANNEL_ZH`). The matcher's strings
are tied to these enumerations by tests/test_vocabulary.py; today's date is `web.clock.today()`.
"""

from .account import ApiToken, AuditEvent, LoginCounter, Role, User, UserVillage
from .base import (
    POOR_STATUSES,
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
    EMPLOYING_KINDS,
    GONE_BATCH_STATUSES,
    OPEN_BATCH_STATUSES,
    BatchStatus,
    DestinationBand,
    Employer,
    EmployerKind,
    Opening,
    PickupPoint,
    PostingStatus,
    TransportBatch,
)
from .inbox import Message, MessageKind, TextMessage, TickRun
from .learning import LearnedWeight
from .people import WORKING_STATUSES, Household, Laborer, LaborerStatus
from .placement import (
    ANSWERED_STATUSES,
    AT_WORK_STATUSES,
    CHANNEL_FK,
    CHANNEL_ZH,
    COMMITTED_STATUSES,
    HOLDING_STATUSES,
    LIVE_OFFER_STATUSES,
    NEEDS_REASON,
    NO_ANSWER_REASON,
    OFFER_TEXT_STATUSES,
    OTHER_WORK_REASON,
    PASSENGER_STATUSES,
    TERM_ENDED_REASON,
    TRANSITIONS,
    Channel,
    Placement,
    PlacementEvent,
    PlacementStatus,
    RetentionCheckin,
    channel_of,
)
from .plan import (
    PRICED_PLAN_STATUSES,
    UNFINISHED_PLAN_STATUSES,
    CapacityPrice,
    Plan,
    PlanAssignment,
    PlanChange,
    PlanChangeAction,
    PlanMode,
    PlanStatus,
)
from .region import CODE_LENGTH, Region, RegionLevel
from .summary import SUMMARY_FIGURES, EmployerDayStat, RegionDayStat
from .transport import ClaimStatus, HandoverPassenger, SubsidyClaim, SubsidyRate
from .version import DataVersion
from .watch import (
    ELIGIBILITY_VALUES,
    LABORER_SUBJECTS,
    FollowUp,
    Verification,
    VerificationMethod,
    VerificationSubject,
    VisitOutcome,
    WatchReason,
)
from .welfare import (
    ANSWERED_REQUEST_STATUSES,
    PostRequest,
    PostRequestStatus,
    TermAction,
    WelfareAttendance,
    WelfarePost,
    WelfarePostType,
    WelfareTermStep,
)

#: A row of some channel's target: an opening, a transport batch or a welfare post.
TargetRow = Opening | TransportBatch | WelfarePost
#: The model of each channel's target (DESIGN §1), by channel name.
CHANNEL_MODELS: dict[str, type[TargetRow]] = {
    Channel.OPENING.value: Opening,
    Channel.BATCH.value: TransportBatch,
    Channel.WELFARE_POST.value: WelfarePost,
}
#: The channel names, in the order policy prefers them.
CHANNELS: tuple[str, ...] = tuple(channel.value for channel in Channel)

__all__ = [
    "ANSWERED_REQUEST_STATUSES",
    "PostRequest",
    "PostRequestStatus",
    "AT_WORK_STATUSES",
    "CHANNELS",
    "CHANNEL_FK",
    "CHANNEL_MODELS",
    "CHANNEL_ZH",
    "EMPLOYING_KINDS",
    "NEEDS_REASON",
    "NO_ANSWER_REASON",
    "OTHER_WORK_REASON",
    "TERM_ENDED_REASON",
    "OPEN_BATCH_STATUSES",
    "GONE_BATCH_STATUSES",
    "ClaimStatus",
    "DestinationBand",
    "HandoverPassenger",
    "SubsidyClaim",
    "SubsidyRate",
    "PASSENGER_STATUSES",
    "POOR_STATUSES",
    "PRICED_PLAN_STATUSES",
    "UNFINISHED_PLAN_STATUSES",
    "channel_of",
    "Ability",
    "ApiToken",
    "AuditEvent",
    "Base",
    "BatchStatus",
    "CapacityPrice",
    "CODE_LENGTH",
    "Channel",
    "DataVersion",
    "Demand",
    "Employer",
    "EmployerDayStat",
    "EmployerKind",
    "ANSWERED_STATUSES",
    "COMMITTED_STATUSES",
    "OFFER_TEXT_STATUSES",
    "HOLDING_STATUSES",
    "LIVE_OFFER_STATUSES",
    "Household",
    "Laborer",
    "LearnedWeight",
    "LaborerStatus",
    "LoginCounter",
    "Message",
    "MessageKind",
    "Opening",
    "PayType",
    "PickupPoint",
    "Placement",
    "PlacementEvent",
    "PlacementStatus",
    "Plan",
    "PlanAssignment",
    "PlanChange",
    "PlanChangeAction",
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
    "TargetRow",
    "TextMessage",
    "TickRun",
    "TransportBatch",
    "User",
    "UserVillage",
    "WORKING_STATUSES",
    "TermAction",
    "WelfareAttendance",
    "WelfarePost",
    "WelfarePostType",
    "WelfareTermStep",
    "ELIGIBILITY_VALUES",
    "LABORER_SUBJECTS",
    "FollowUp",
    "Verification",
    "VerificationMethod",
    "VerificationSubject",
    "VisitOutcome",
    "WatchReason",
    "WorkArea",
]
