"""One vocabulary: the matcher's strings are the models' enumerations, and no module writes its own
set of statuses (they are imported from `web.models`, where they live beside their enumerations)."""

from __future__ import annotations

import ast
from pathlib import Path

from matcher import plan, rules, types
from web.models import (
    AT_WORK_STATUSES,
    CHANNEL_FK,
    CHANNEL_MODELS,
    CHANNEL_ZH,
    CHANNELS,
    HOLDING_STATUSES,
    PASSENGER_STATUSES,
    POOR_STATUSES,
    Ability,
    BatchStatus,
    Channel,
    Demand,
    LaborerStatus,
    PayType,
    Placement,
    PlacementStatus,
    PlanMode,
    PlanStatus,
    PostingStatus,
    PovertyStatus,
    Sex,
    WelfarePostType,
    WorkArea,
    channel_of,
)

ROOT = Path(__file__).resolve().parent.parent
STATUS_ENUMS = (PlacementStatus, PovertyStatus, LaborerStatus, PlanStatus, BatchStatus, PostingStatus)


def values(enum) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def test_the_matchers_strings_are_the_model_enumerations():
    assert values(WorkArea) == types.WORK_AREAS
    assert values(PayType) == types.PAY_TYPES
    assert values(PovertyStatus) == types.POVERTY_STATUSES
    assert values(Sex) == types.SEXES
    assert set(types.ABILITY_RANK) == set(values(Ability))
    assert set(types.DEMAND_RANK) == set(values(Demand))
    assert types.KINDS == CHANNELS == values(Channel)
    assert set(types.JOB_KINDS) == set(CHANNELS) - {Channel.WELFARE_POST.value}
    assert {status.value for status in POOR_STATUSES} == rules.POOR_STATUSES
    assert values(PlanMode) == plan.MODES
    # Every named kind of welfare post has a name to be shown by.
    assert {t.value for t in WelfarePostType} - {"other"} <= set(types.JOB_TYPE_LABELS)


def test_ranks_follow_the_order_of_the_enumerations():
    # Ability is declared strongest first, demand lightest first (DESIGN §2: full = heavy = 3, none = 0).
    assert [types.ABILITY_RANK[a.value] for a in Ability] == [3, 2, 1, 0]
    assert [types.DEMAND_RANK[d.value] for d in Demand] == [1, 2, 3]


def test_the_channels_name_their_model_column_and_chinese_name():
    assert list(CHANNEL_MODELS) == list(CHANNEL_FK) == list(CHANNEL_ZH) == list(CHANNELS)
    for name, column in CHANNEL_FK.items():
        (key,) = Placement.__table__.c[column].foreign_keys
        assert key.column.table.name == CHANNEL_MODELS[name].__tablename__
    assert channel_of(1, None) is Channel.OPENING and channel_of(None, 2) is Channel.BATCH
    assert channel_of(None, None) is Channel.WELFARE_POST


def test_status_sets_nest_as_the_domain_says():
    assert set(HOLDING_STATUSES) < set(PASSENGER_STATUSES)
    assert set(PASSENGER_STATUSES) - set(HOLDING_STATUSES) == {PlacementStatus.ENDED}
    assert set(AT_WORK_STATUSES) == {PlacementStatus.WORKING, PlacementStatus.ENDED}
    assert PovertyStatus.NON_POOR not in POOR_STATUSES
    # The database's one-post-per-household index is written from the same set.
    index = next(i for i in Placement.__table__.indexes if i.name == "uq_placement_household_welfare")
    where = str(index.dialect_options["postgresql"]["where"])
    assert all(f"'{s.value}'" in where for s in HOLDING_STATUSES)
    assert not any(f"'{s.value}'" in where for s in set(PlacementStatus) - set(HOLDING_STATUSES))


def _status_literal(node: ast.AST) -> str | None:
    """The enum a tuple/list/set literal of two or more statuses is made of, else None."""
    if not isinstance(node, ast.Tuple | ast.List | ast.Set) or len(node.elts) < 2:
        return None
    owners: set[str] = set()
    for element in node.elts:
        if isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name):
            if not element.value.id.endswith("Status"):
                return None
            owners.add(element.value.id)
        elif isinstance(element, ast.Constant) and isinstance(element.value, str):
            found = {e.__name__ for e in STATUS_ENUMS if element.value in values(e)}
            if not found:
                return None
            owners |= found
        else:
            return None
    return ", ".join(sorted(owners))


def test_no_module_writes_its_own_set_of_statuses():
    """Status sets are imported from web.models. Tables (a dict from a status or a role to the
    statuses it may move to, as in a lifecycle) are rules of their own, and are left alone."""
    found = []
    for path in sorted([*(ROOT / "web").rglob("*.py"), *(ROOT / "seed").rglob("*.py")]):
        if path.parent.name == "models":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lifecycle_values = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.Dict)
            for value in node.values
            for inner in ast.walk(value)
        }
        for node in ast.walk(tree):
            owner = _status_literal(node)
            if owner and id(node) not in lifecycle_values:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} ({owner})")
    assert not found, "import the status set from web.models instead: " + "; ".join(found)
