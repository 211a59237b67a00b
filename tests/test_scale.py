"""Compiling frames of the sizes real engines have, on every queue layout: linear memory, verified
plans. (Speed lives in benchmarks/compile_scaling.py --matrix, not in timed tests.)"""
import json
import tracemalloc

import pytest

from benchmarks.compile_scaling import DEVICES, pingpong_graph, queue_mix_graph
from framegraph import CompileOptions, compile
from framegraph.verifier import verify_plan


def _peak_mib(fn):
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


def test_300_pass_queue_pingpong_on_discrete_compiles_in_bounded_memory():
    # The old cross-queue bookkeeping grew like Fibonacci numbers here: 60 passes ran out of memory.
    graph = pingpong_graph(300).graph()
    plan, peak = _peak_mib(lambda: compile(graph, device="discrete"))
    assert peak < 32, f"compile peak {peak:.1f} MiB"
    assert plan.stats["semaphore_waits"] == 298     # one per queue switch, none redundant
    assert verify_plan(json.loads(plan.to_json())) == []


def test_memory_grows_linearly_with_pingpong_length():
    small = _peak_mib(lambda: compile(pingpong_graph(100).graph(), device="discrete"))[1]
    large = _peak_mib(lambda: compile(pingpong_graph(800).graph(), device="discrete"))[1]
    assert large < 8 * small * 1.5, (small, large)


@pytest.mark.parametrize("device", list(DEVICES))
@pytest.mark.parametrize("strategy", ["naive", "batched", "split"])
def test_150_pass_three_queue_mix_verifies(device, strategy):
    graph = queue_mix_graph(150, seed=3).graph()
    for opts in (dict(), dict(concurrent_sharing=True), dict(reorder=True)):
        plan = compile(graph, device=DEVICES[device], options=CompileOptions(strategy=strategy, **opts))
        assert verify_plan(json.loads(plan.to_json())) == [], (device, strategy, opts)


@pytest.mark.slow_fuzz
@pytest.mark.parametrize("device", list(DEVICES))
def test_thousands_of_passes_verify(device):
    for graph in (queue_mix_graph(3000, seed=1).graph(), pingpong_graph(5000).graph()):
        plan = compile(graph, device=DEVICES[device])
        assert verify_plan(json.loads(plan.to_json())) == []
