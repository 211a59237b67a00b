"""framegraph.viz: every picture and text file is produced and well formed, the DOT names kept and
culled passes, and explain.txt has exactly one entry per synchronization entry of the plan."""
import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

import framegraph
from framegraph import dump_graph
from framegraph.plan import BarrierCmd, PassCmd, SetEventCmd, WaitEventsCmd
from framegraph.viz import add_cli, explain, load_graph_source, memory_figure, timeline_figure, to_dot, write_all
from framegraph.viz.timeline import _layout

from .graphs import chain, deferred_like

CASES = [(build, strategy, "lavapipe") for build in (deferred_like, chain) for strategy in ("batched", "split")]
CASES.append((deferred_like, "split", "discrete"))     # three queues: lanes, semaphores, ownership


def plan_counts(plan):
    """Sync entries counted straight from the plan, independently of the viz code."""
    n = {"barrier": 0, "set_event": 0, "wait_event": 0, "semaphore wait": 0}
    for s in plan.submits:
        n["semaphore wait"] += len(s.waits)
        for c in s.commands:
            if isinstance(c, (BarrierCmd, SetEventCmd)):
                d = c.dependency
                n["barrier" if isinstance(c, BarrierCmd) else "set_event"] += \
                    len(d.memory) + len(d.buffers) + len(d.images)
            elif isinstance(c, WaitEventsCmd):
                n["wait_event"] += len(c.events)
    return n


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = {}
    for build, strategy, device in CASES:
        fg = build()
        plan = framegraph.compile(fg, strategy=strategy, device=device)
        d = tmp_path_factory.mktemp(f"{build.__name__}-{strategy}-{device}")
        out[(build.__name__, strategy, device)] = (fg.graph(), plan, write_all(plan, fg, d))
    return out


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[2]}")
def test_files_are_well_formed(written, case):
    graph, plan, paths = written[(case[0].__name__, case[1], case[2])]
    for name in ("graph.dot", "graph.svg", "timeline.png", "memory.png", "explain.txt"):
        assert (paths["dot"].parent / name).stat().st_size > 0, name
    root = ET.parse(paths["svg"]).getroot()
    assert root.tag.endswith("svg")
    for key in ("timeline", "memory"):
        with Image.open(paths[key]) as im:
            im.verify()
        with Image.open(paths[key]) as im:
            assert im.width >= 600 and im.height >= 250, (key, im.size)
            assert sum(1 for n in im.convert("L").histogram() if n) > 4, f"{key} looks blank"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[2]}")
def test_dot_names_kept_passes_and_marks_culled(written, case):
    graph, plan, paths = written[(case[0].__name__, case[1], case[2])]
    dot = paths["dot"].read_text()
    for i, p in enumerate(plan.passes):
        line = next(l for l in dot.splitlines() if l.strip().startswith(f'"p:{p.name}" ['))
        assert f"{i}  {p.name}" in line and "culled" not in line
    for name in plan.culled:
        line = next(l for l in dot.splitlines() if l.strip().startswith(f'"p:{name}" ['))
        assert "culled" in line and "dashed" in line
    for r in graph.resources:
        assert f'"r:{r.name}:' in dot
    svg = paths["svg"].read_text()
    for p in plan.passes:
        assert p.name in svg
    if case[0] is deferred_like:
        assert plan.culled == ("debug_view",)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__name__}-{c[1]}-{c[2]}")
def test_explain_has_one_entry_per_sync_entry(written, case):
    graph, plan, paths = written[(case[0].__name__, case[1], case[2])]
    text = paths["explain"].read_text()
    headers = [l for l in text.splitlines() if re.match(r"#\d+ ", l)]
    want = plan_counts(plan)
    assert len(headers) == sum(want.values())
    assert [int(h.split()[0][1:]) for h in headers] == list(range(1, len(headers) + 1))
    got = {k: sum(1 for h in headers if h.split(" ", 1)[1].startswith(k)) for k in want}
    assert got == want
    if case[1] == "split" and case[2] == "lavapipe":
        assert want["set_event"] and want["wait_event"]     # the split cases do exercise events
    # every barrier-like entry names a pair and its masks; every image entry its layouts
    for block in re.split(r"\n(?=#\d+ )", text.split("== Resource state history")[0])[1:]:
        head = block.splitlines()[0]
        assert " → " in block, head
        if " · image " in head:
            assert "layout " in block and re.search(r"mips? \d", head), head
        if head.split(" ", 1)[1].startswith(("barrier", "set_event")):
            assert "src " in block and "dst " in block, head
    # per-resource history names every access of every resource
    history = text.split("== Resource state history")[1]
    for r in plan.resources:
        assert f"\n{r.name} · " in history
    for p in plan.passes:
        assert p.name in history


def test_explain_pairs_each_entry_with_its_own_reason():
    plan = framegraph.compile(deferred_like(), strategy="batched")
    text = explain(plan)
    blocks = {b.splitlines()[0]: b for b in re.split(r"\n(?=#\d+ )", text)}
    mip1 = next(b for h, b in blocks.items() if "image hdr (mip 1," in h and "bloom_down1 and bloom_down2" in h)
    mip2 = next(b for h, b in blocks.items() if "image hdr (mip 2," in h and "bloom_down1 and bloom_down2" in h)
    assert "bloom_down1 → bloom_down2 · hdr · RAW" in mip1 and "initial state" not in mip1
    assert "initial state → bloom_down2 · hdr · layout" in mip2 and "RAW" not in mip2
    assert "layout UNDEFINED → COLOR_ATTACHMENT_OPTIMAL" in mip2


def test_semaphore_waits_explained_with_pairs():
    plan = framegraph.compile(deferred_like(), strategy="batched", device="discrete")
    text = explain(plan)
    assert "semaphore wait · timeline graphics ≥ 1" in text
    assert "gbuffer → lighting · depth · RAW" in text
    assert "presentation engine → tonemap · swapchain · acquire" in text


def test_gpu_times_set_box_widths():
    plan = framegraph.compile(deferred_like(), strategy="split", device="discrete")
    times = {p.name: 0.1 * (i + 1) for i, p in enumerate(plan.passes)}
    _, items, *_ = _layout(plan, times)
    widths = {it.command.pass_name: it.x1 - it.x0 for it in items if isinstance(it.command, PassCmd)}
    assert widths == pytest.approx(times)
    # lighting (compute) starts after gbuffer's submit signalled
    start = {it.command.pass_name: it.x0 for it in items if isinstance(it.command, PassCmd)}
    end = {it.command.pass_name: it.x1 for it in items if isinstance(it.command, PassCmd)}
    assert start["lighting"] > end["gbuffer"] and start["bloom_down1"] > end["lighting"]
    fig = timeline_figure(plan, gpu_times_ms=times)
    assert "ms" in fig.axes[0].get_xlabel()


def test_memory_figure_shows_aliasing_and_totals():
    plan = framegraph.compile(chain(), strategy="batched")
    fig = memory_figure(plan)
    title = fig._suptitle.get_text()
    assert "unaliased" in title and "lower bound" in title
    rects = [p for p in fig.axes[0].patches]
    assert len(rects) == sum(1 for r in plan.resources if r.transient)
    if all(r.heap is not None for r in plan.resources if r.transient):
        assert any(p.get_hatch() for p in rects) == (plan.stats["transient_bytes"] <
                                                     plan.stats["transient_bytes_unaliased"])


def test_to_dot_accepts_a_framegraph_or_a_graph():
    fg = chain(1)
    plan = framegraph.compile(fg)
    assert to_dot(plan, fg) == to_dot(plan, fg.graph())


def test_cli_viz_on_a_json_graph_and_a_sample(tmp_path):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    sample = tmp_path / "tiny_sample.py"
    sample.write_text("from tests.graphs import chain\n\n"
                      "def build_graph(width=64, height=64):\n    return chain(2, size=(width, height))\n")
    ap = argparse.ArgumentParser()
    add_cli(ap.add_subparsers(dest="cmd", required=True))
    for source, out in ((g, tmp_path / "json"), (sample, tmp_path / "sample")):
        args = ap.parse_args(["viz", str(source), "-o", str(out), "--strategy", "split", "--device", "discrete",
                              "--width", "32", "--height", "16"])
        assert args.fn(args) == 0
        assert {p.name for p in out.iterdir()} >= {"graph.dot", "graph.svg", "timeline.png", "memory.png",
                                                  "explain.txt"}
    assert "32x16" in (tmp_path / "sample" / "explain.txt").read_text()
    assert load_graph_source(str(sample), width=8, height=8).graph().resources[0].desc.extent[:2] == (8, 8)


def test_viz_never_imports_vulkan():
    code = ("import sys, framegraph.viz; assert 'vulkan' not in sys.modules; "
            "assert 'matplotlib' not in sys.modules  # lazy: the CLI imports viz on every run")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_memory_figure_without_placements():
    """Plans compiled before placement (heap/offset None) are drawn stacked, one row per resource."""
    import dataclasses
    plan = framegraph.compile(deferred_like(), strategy="batched")
    bare = dataclasses.replace(plan, heaps=(), resources=tuple(dataclasses.replace(r, heap=None, offset=None)
                                                               for r in plan.resources))
    fig = memory_figure(bare)
    assert len(fig.axes) == 1 and "stacked" in fig.axes[0].get_ylabel()
    assert len(fig.axes[0].patches) == sum(1 for r in plan.resources if r.transient)
