"""The benchmark's harness: each step measured in a forked child, out of sight of the parent's objects."""

import gc

from matcher import bench


def _child_sees():
    held = [object() for _ in range(3)]
    return gc.get_freeze_count(), len(held)


def test_a_step_runs_in_a_child_whose_collector_skips_the_parents_objects():
    gc.unfreeze()  # another test of this process may have frozen its objects (as `jiuye serve` does)
    parent_objects = [[i] for i in range(1_000)]  # what the parent holds, as the instance is held
    result = bench.measured(_child_sees)
    frozen_in_child, made = result.value
    # Everything the parent held at the fork is frozen in the child: a full collection there walks
    # none of it (nor copies its pages); the child's own objects are collected as usual.
    assert frozen_in_child >= len(parent_objects)
    assert made == 3
    assert gc.get_freeze_count() == 0  # the parent's collector sees its objects again


def test_a_parent_that_froze_its_objects_itself_keeps_them_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        bench.measured(_child_sees)
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
