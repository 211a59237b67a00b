"""The benchmarks' frames are real and correct: every synthetic workload (benchmarks/workloads.py) and
the async_compute sample run under each strategy / queue choice with zero validation messages, their
plans pass the verifier, and the same frame renders the same image however it is synchronized. The
bench command writes its JSON and chart."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

import framegraph
from framegraph import bench
from framegraph.verifier import verify_plan

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import workloads  # noqa: E402
from samples import async_compute  # noqa: E402

STRATEGIES = ("naive", "per_resource", "batched", "split")
SIZE = (16, 16)


def _render(ctx, build, *, strategy="batched", frames=2, **renderer_kw):
    """Render `frames` frames one at a time; returns (last image, plans compiled, renderer's last frame ms)."""
    plans: list = []
    target = OffscreenTarget(*SIZE)
    with Renderer(ctx, target, strategy=strategy, frames_in_flight=1, timestamps="frame",
                  on_compile=support.verified(plans), **renderer_kw) as renderer:
        for _ in range(frames):
            renderer.render(build)
            renderer.wait()
        return target.read(), plans, renderer.last_gpu_frame_ms


@pytest.mark.parametrize("name", list(workloads.WORKLOADS))
def test_workload_runs_under_every_strategy(vk_context, name):
    build = workloads.WORKLOADS[name].builder(**workloads.TINY[name])
    images = {}
    for strategy in STRATEGIES:
        image, plans, gpu_ms = _render(vk_context, build, strategy=strategy)
        assert len(plans) == 1 and plans[0].strategy == strategy
        assert plans[0].stats["barrier_calls"] > 0
        if vk_context.features.get("hostQueryReset"):
            assert gpu_ms is not None and gpu_ms > 0, "whole-frame GPU timestamps"
        images[strategy] = image
    assert (images["naive"][..., 3] == 255).all(), "the resolve pass wrote the whole output"
    assert images["naive"][..., :3].std() > 0, "the output is not flat"
    for strategy, image in images.items():
        assert np.array_equal(image, images["naive"]), f"{strategy} renders a different image than naive"


def test_workload_plans_have_the_intended_structure():
    """Counted on the compiler alone: the plans differ between strategies where the workloads say."""
    def compile_tiny(name, strategy):
        fg = framegraph.FrameGraph(name)
        frame = argparse.Namespace(extent=SIZE, time=0.0)
        frame.output = fg.import_image("output", format="R8G8B8A8_UNORM", extent=SIZE)
        fg.output(workloads.WORKLOADS[name].builder(**workloads.TINY[name])(fg, frame))
        return framegraph.compile(fg.graph(), strategy=strategy, device="discrete")

    chain = {s: compile_tiny("chain", s).stats for s in STRATEGIES}
    passes = workloads.TINY["chain"]["passes"]
    assert chain["naive"]["memory_barriers"] == chain["naive"]["barrier_calls"] >= passes
    assert chain["per_resource"]["barrier_calls"] > chain["batched"]["barrier_calls"]
    streams = {s: compile_tiny("streams", s).stats for s in STRATEGIES}
    assert streams["batched"]["barrier_calls"] < streams["per_resource"]["barrier_calls"], \
        "interleaved streams: batched merges the barriers of a step's passes"
    mips = compile_tiny("mips", "batched")
    transitions = [b for c in mips.commands() if c.op == "barrier" for b in c.dependency.images
                   if b.resource == "pyramid"]
    assert transitions and all(b.mips[1] == 1 for b in transitions), "mip-granular barriers"


def test_split_strategy_emits_events_in_the_split_workload(vk_context):
    build = workloads.WORKLOADS["split"].builder(**workloads.TINY["split"])
    _, plans, _ = _render(vk_context, build, strategy="split")
    plan = plans[0]
    groups = workloads.TINY["split"]["groups"]
    assert plan.stats["events"] >= groups
    waited = [json.loads(plan.to_json())]
    pairs = set()
    for submit in waited[0]["submits"]:
        for command in submit["commands"]:
            if command["op"] == "wait_events":
                pairs |= {(r["producer"], r["consumer"]) for r in command.get("reasons", [])}
    for g in range(groups):
        assert (f"produce{g}", f"consume{g}") in pairs, "the consumer waits on an event set after its producer"
    batched = _render(vk_context, build, strategy="batched")[1][0]
    assert batched.stats["events"] == 0


@pytest.mark.parametrize("queue,concurrent,streams", [
    ("graphics", False, False), ("compute", False, False), ("compute", True, False),
    ("graphics", False, True), ("compute", False, True), ("compute", True, True)])
def test_async_compute_sample_runs_and_verifies(vk_context, queue, concurrent, streams):
    plans: list = []
    profile = async_compute.separate_streams(vk_context) if streams else None
    image, gpu_ms = async_compute.render_offscreen(
        vk_context, frames=2, size=(32, 24), compute_queue=queue, concurrent=concurrent, device=profile,
        on_compile=support.verified(plans), field_iterations=16, shade_steps=8, animate=False)
    plan = plans[0]
    assert {p.name: p.queue for p in plan.passes}["simulate"] == queue
    if streams and queue == "compute":
        assert set(plan.queues) == {"graphics", "compute", "transfer"} and plan.stats["semaphore_waits"] >= 1
        # One family here: no ownership transfer to make, concurrent or not.
        assert bench.plan_counts(plan)["ownership_barriers"] == 0
    reference, _ = async_compute.render_offscreen(vk_context, frames=1, size=(32, 24), compute_queue="graphics",
                                                  field_iterations=16, shade_steps=8, animate=False)
    assert np.array_equal(image, reference), "the queue choice changed the image"


def test_async_compute_on_a_discrete_profile_transfers_ownership():
    """The H100 layout (compute on family 2): composite acquires `blurred` from the compute family;
    with concurrent sharing there is no transfer; declared first, aliasing makes shade wait."""
    def compile_variant(**kw):
        concurrent = kw.pop("concurrent", False)
        fg = framegraph.FrameGraph("async_compute")
        frame = argparse.Namespace(extent=(32, 32), time=0.0)
        frame.output = fg.import_image("output", format="R8G8B8A8_UNORM", extent=(32, 32))
        fg.output(async_compute.make_build(**kw)(fg, frame))
        plan = framegraph.compile(fg.graph(), device="discrete",
                                  options=framegraph.CompileOptions(concurrent_sharing=concurrent))
        assert not verify_plan(json.loads(plan.to_json()), driver_rules=True)
        return plan

    plan = compile_variant(compute_queue="compute")
    assert plan.queues["compute"]["family"] == 2
    assert bench.plan_counts(plan)["ownership_barriers"] == 2          # release + acquire
    shade = next(s for s in plan.submits if any(getattr(c, "pass_name", None) == "shade" for c in s.commands))
    assert not [w for w in shade.waits if w.queue == "compute"], "shade overlaps the compute queue"
    assert bench.plan_counts(compile_variant(compute_queue="compute", concurrent=True))["ownership_barriers"] == 0
    first = compile_variant(compute_queue="compute", compute_first=True)
    shade = next(s for s in first.submits if any(getattr(c, "pass_name", None) == "shade" for c in s.commands))
    # Declared first, the compute passes' transients could share memory with `scene`; lifetimes widen
    # to the semaphores the frame already has, so aliasing does not make shade wait for compute.
    assert not [w for w in shade.waits if w.queue == "compute"], "aliasing serialised the queues"


def test_bench_cli_writes_json_and_png(vk_context, tmp_path, capsys):
    from PIL import Image

    parser = argparse.ArgumentParser(prog="framegraph")
    bench.add_cli(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(["bench", "--workload", "chain", "--workload", "split", "--sample", "no_such_sample",
                              "--tiny", "--frames", "2", "--warmup", "1", "--size", "16x16", "--out", str(tmp_path),
                              "--tag", "test", "--strategies", "naive", "split"])
    assert args.fn(args) == 0
    out = capsys.readouterr()
    assert "chain" in out.out and "split" in out.out and "no_such_sample" in out.err
    data = json.loads((tmp_path / "strategies-test.json").read_text())
    assert data["format"] == "framegraph-bench-strategies/1"
    rows = [r for r in data["results"] if not r.get("skipped")]
    assert [(r["workload"], r["strategy"]) for r in rows] == [
        ("chain", "naive"), ("chain", "split"), ("split", "naive"), ("split", "split")]
    for r in rows:
        assert r["verifier_problems"] == 0 and r["validation_messages"] == 0
        assert r["cpu_ms"]["n"] == 2 and r["counts"]["barrier_calls"] > 0
        assert r["gpu_ms"] is None or r["gpu_ms"]["p10"] <= r["gpu_ms"]["median"] <= r["gpu_ms"]["p90"]
    assert [r for r in rows if r["workload"] == "split" and r["strategy"] == "split"][0]["counts"]["events"] > 0
    assert any(r.get("skipped") for r in data["results"])
    assert Image.open(tmp_path / "strategies-test.png").size[0] > 100


def test_bench_replay_declares_workloads_once_and_still_verifies(vk_context, tmp_path, capsys, monkeypatch):
    """`bench --replay`: renderers re-submit their recordings and the synthetic workloads are declared
    once per slot (build runs once per renderer and slot); plans verify, no validation message."""
    calls = []
    real = workloads.Workload.builder

    def counting_builder(self, **overrides):
        build = real(self, **overrides)

        def counted(fg, frame):
            calls.append(frame.index)
            return build(fg, frame)
        return counted
    monkeypatch.setattr(workloads.Workload, "builder", counting_builder)
    parser = argparse.ArgumentParser(prog="framegraph")
    bench.add_cli(parser.add_subparsers(dest="cmd", required=True))
    args = parser.parse_args(["bench", "--workload", "chain", "--tiny", "--frames", "6", "--warmup", "1",
                              "--size", "16x16", "--out", str(tmp_path), "--tag", "replay", "--strategies",
                              "naive", "batched", "--replay", "--no-plot"])
    assert args.fn(args) == 0
    data = json.loads((tmp_path / "strategies-replay.json").read_text())
    assert data["settings"]["replay"] is True
    for r in data["results"]:
        assert r["verifier_problems"] == 0 and r["validation_messages"] == 0 and r["cpu_ms"]["n"] == 6
    assert len(calls) == 2, calls          # one declaration per renderer (one frame slot each)


def test_async_bench_writes_json(vk_context, tmp_path, capsys):
    from benchmarks import async_compute as async_bench

    code = async_bench.main(["--size", "32x16", "--frames", "2", "--warmup", "1", "--throughput-frames", "2",
                             "--pass-frames", "1", "--field-iterations", "8", "--shade-steps", "4", "--streams",
                             "--out", str(tmp_path), "--tag", "test"])
    assert code == 0
    data = json.loads((tmp_path / "async_compute-test.json").read_text())
    by = {r["variant"]: r for r in data["results"]}
    assert set(by) == set(async_bench.VARIANTS)
    assert by["graphics"]["counts"]["submits"] == 1 and by["compute"]["counts"]["semaphore_waits"] >= 1
    assert all(r["validation_messages"] == 0 and r["verifier_problems"] == 0 for r in by.values())
    assert set(by["compute"]["pass_gpu_ms"]) >= {"simulate", "blur", "shade", "composite"}
    assert "compute+concurrent" in capsys.readouterr().out


def test_statistics_helpers():
    assert bench.percentile([1, 2, 3, 4, 5], 50) == 3
    assert bench.percentile([0, 10], 10) == pytest.approx(1.0)
    s = bench.summarize([4.0, 1.0, 3.0, 2.0])
    assert s["min"] == 1.0 and s["max"] == 4.0 and s["median"] == 2.5 and s["n"] == 4
    assert bench.summarize([]) is None
    assert bench.device_tag("NVIDIA H100 80GB HBM3") == "h100"
    assert bench.device_tag("llvmpipe (LLVM 15.0.6, 256 bits)") == "llvmpipe"
    assert workloads.parse_params(["a=1", "b = x"]) == {"a": "1", "b": "x"}
    with pytest.raises(ValueError):
        workloads.WORKLOADS["chain"].params(nope=1)
    with pytest.raises(ValueError):
        workloads.WORKLOADS["streams"].params(streams=1)


def test_bench_module_never_imports_vulkan():
    import subprocess
    code = ("import sys, framegraph.bench; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'vulkan'], 'framegraph.bench imported vulkan'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_frame_cpu_tiny_writes_rows_and_modes_agree(vk_context, tmp_path, capsys):
    """benchmarks/frame_cpu.py --tiny: the row format, every mode of every frame, the same image in
    every mode (hand-written frames included), and no validation message with validation on."""
    from benchmarks import frame_cpu

    code = frame_cpu.main(["--tiny", "--frames", "2", "--warmup", "1", "--sweep", "10", "--validation", "on",
                           "--out", str(tmp_path)])
    assert code == 0, "validation messages (see frame_cpu-details.json)"
    rows = json.loads((tmp_path / "frame_cpu.json").read_text())
    assert all(set(r) == {"workload", "mode", "passes", "cpu_ms", "gpu_ms"} for r in rows)
    assert {(r["workload"], r["mode"]) for r in rows} >= {
        (w, m) for w in ("chain", "chain_10") for m in frame_cpu.MODES} | {
        ("streams", "record"), ("streams", "replay"), ("deferred", "record"), ("deferred", "replay"),
        ("deferred", "hand_written"), ("deferred_turns", "replay_declared_once")}
    details = json.loads((tmp_path / "frame_cpu-details.json").read_text())
    assert all(r["detail"]["image_equals_record"] for r in details["rows"]), \
        [(r["workload"], r["mode"]) for r in details["rows"] if not r["detail"]["image_equals_record"]]
    assert "| chain | replay |" in capsys.readouterr().out
