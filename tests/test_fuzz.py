"""Random graphs × every strategy × device profile: every compiled plan verifies with 0 problems,
and matches its graph. Bounded example counts keep the suite fast; `-m slow_fuzz` runs more."""
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings

from framegraph import CompileOptions, compile, dump_graph, load_graph
from framegraph.consistency import check_plan_against_graph
from framegraph.verifier import verify_plan

from .random_graphs import frame_graphs

STRATEGIES = ("naive", "per_resource", "batched", "split")
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_all(fg, device, concurrent=False, reorder=False, across=False):
    graph = fg.graph()
    assert load_graph(dump_graph(graph)) == graph
    for strategy in STRATEGIES:
        plan = compile(graph, device=device, options=CompileOptions(strategy=strategy, reorder=reorder,
                                                                   concurrent_sharing=concurrent,
                                                                   alias_across_queues=across))
        d = json.loads(plan.to_json())
        problems = [str(p) for p in verify_plan(d, driver_rules=True)] + check_plan_against_graph(graph, d)
        if problems:   # keep the reproducer: python -m framegraph compile/verify reads it
            os.makedirs("out", exist_ok=True)
            with open("out/fuzz-failure.graph.json", "w") as f:
                f.write(dump_graph(graph))
        assert problems == [], f"{strategy}/{device}:\n" + "\n".join(problems) + "\n" + dump_graph(graph)


@FAST
@given(frame_graphs())
def test_fuzz_single_queue_lavapipe(fg):
    check_all(fg, "lavapipe")


@FAST
@given(frame_graphs())
def test_fuzz_three_queues_discrete(fg):
    check_all(fg, "discrete")


@FAST
@given(frame_graphs())
def test_fuzz_three_queues_concurrent_sharing(fg):
    check_all(fg, "discrete", concurrent=True)


@FAST
@given(frame_graphs())
def test_fuzz_three_queues_aliasing_across_queues(fg):
    check_all(fg, "discrete", across=True)


@FAST
@given(frame_graphs())
def test_fuzz_reordered(fg):
    check_all(fg, "lavapipe", reorder=True)
    check_all(fg, "discrete", reorder=True)


# Where real frames go: many passes on all three queues, on every queue layout, every option.
TWO_QUEUES_ONE_FAMILY = {"name": "two_queues_one_family",
                         "queues": {"graphics": {"family": 0, "index": 0}, "compute": {"family": 0, "index": 1},
                                    "transfer": {"family": 1, "index": 0}}}
BIG = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
big_graphs = frame_graphs(max_passes=120, min_passes=40, max_images=6, max_buffers=4)


@BIG
@given(big_graphs)
def test_fuzz_big_multi_queue_discrete(fg):
    check_all(fg, "discrete")


@BIG
@given(big_graphs)
def test_fuzz_big_two_queues_one_family(fg):
    check_all(fg, TWO_QUEUES_ONE_FAMILY)
    check_all(fg, TWO_QUEUES_ONE_FAMILY, concurrent=True)


@BIG
@given(big_graphs)
def test_fuzz_big_options(fg):
    check_all(fg, "discrete", concurrent=True, reorder=True)
    check_all(fg, "discrete", across=True)
    check_all(fg, "lavapipe", reorder=True)


@FAST
@given(frame_graphs())
def test_fuzz_two_queues_one_family(fg):
    check_all(fg, TWO_QUEUES_ONE_FAMILY)
    check_all(fg, TWO_QUEUES_ONE_FAMILY, concurrent=True, reorder=True)


@pytest.mark.slow_fuzz
@SLOW
@given(frame_graphs(max_passes=24))
def test_fuzz_large(fg):
    check_all(fg, "lavapipe")
    check_all(fg, "discrete")
    check_all(fg, TWO_QUEUES_ONE_FAMILY)


@pytest.mark.slow_fuzz
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(frame_graphs(max_passes=400, min_passes=200, max_images=8, max_buffers=6))
def test_fuzz_hundreds_of_passes(fg):
    check_all(fg, "discrete")
    check_all(fg, TWO_QUEUES_ONE_FAMILY, concurrent=True)
