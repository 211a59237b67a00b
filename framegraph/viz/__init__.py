"""See a compiled frame: the graph (DOT/SVG), the queue timeline, transient memory, and every
synchronization entry explained in words. Figures are plain matplotlib `Figure`s (Agg, no pyplot
state), so notebooks can show them and scripts can save them."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json
import sys
import warnings
from pathlib import Path

from ..errors import FrameGraphError
from ..plan import Plan
from .dot import render_svg, to_dot
from .explain import count_sync_entries, explain, sync_entries


# matplotlib is imported on first use only: the CLI registers `viz` (add_cli) on every run.
def timeline_figure(plan: Plan, gpu_times_ms: dict | None = None):
    """The queue timeline as a matplotlib Figure (see framegraph.viz.timeline)."""
    from .timeline import timeline_figure as figure
    return figure(plan, gpu_times_ms)


def memory_figure(plan: Plan):
    """Transient memory, heap offset × time, as a matplotlib Figure (see framegraph.viz.memory)."""
    from .memory import memory_figure as figure
    return figure(plan)

__all__ = ["to_dot", "explain", "timeline_figure", "memory_figure", "write_all", "sync_entries",
           "count_sync_entries", "load_graph_source", "add_cli"]


def write_all(plan: Plan, graph, out_dir, gpu_times_ms: dict | None = None) -> dict[str, Path]:
    """Write graph.dot, graph.svg, timeline.png, memory.png and explain.txt into `out_dir`; returns
    their paths by short name. graph.svg is skipped, with a warning, where graphviz is missing."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"dot": out / "graph.dot", "timeline": out / "timeline.png", "memory": out / "memory.png",
             "explain": out / "explain.txt"}
    dot_text = to_dot(plan, graph)
    paths["dot"].write_text(dot_text)
    try:
        paths["svg"] = render_svg(dot_text, out / "graph.svg")
    except FrameGraphError as e:
        warnings.warn(str(e), stacklevel=2)
    timeline_figure(plan, gpu_times_ms).savefig(paths["timeline"])
    memory_figure(plan).savefig(paths["memory"])
    paths["explain"].write_text(explain(plan))
    return paths


def load_graph_source(source: str, *, width: int = 1280, height: int = 720):
    """A Graph from a `framegraph-graph/1` JSON file, or a FrameGraph from a sample module's
    `build_graph(width=..., height=...)` (a `.py` path, or a dotted module name)."""
    from ..graph_json import load_graph
    path = Path(source)
    if path.suffix == ".json":
        try:
            return load_graph(path.read_text())
        except OSError as e:
            raise FrameGraphError(f"cannot read {source}: {e}") from None
    if path.suffix == ".py":
        path = path.resolve()
        if not path.exists():
            raise FrameGraphError(f"no such sample: {source}")
        if path.parent.name == "samples" and (path.parent / "__init__.py").exists():
            # Import as a package module so the sample's own relative imports work.
            root = str(path.parent.parent)
            if root not in sys.path:
                sys.path.insert(0, root)
            module = importlib.import_module(f"samples.{path.stem}")
        else:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(source)
        except ImportError as e:
            raise FrameGraphError(f"{source}: not a .json graph, a .py sample or an importable module ({e})") \
                from None
    build = getattr(module, "build_graph", None)
    if build is None:
        raise FrameGraphError(f"{source} has no build_graph(width=..., height=...) function")
    params = inspect.signature(build).parameters
    kwargs = {k: v for k, v in (("width", width), ("height", height)) if k in params}
    fg = build(**kwargs)
    if fg is None:
        raise FrameGraphError(f"{source}: build_graph() returned nothing (expected a FrameGraph)")
    return fg


def _cmd_viz(args) -> int:
    from ..compiler import compile
    graph = load_graph_source(args.graph, width=args.width, height=args.height)
    plan = compile(graph, strategy=args.strategy, device=args.device)
    times = None
    if args.gpu_times:
        try:
            with open(args.gpu_times) as f:
                times = {str(k): float(v) for k, v in json.load(f).items()}
        except (OSError, ValueError, AttributeError) as e:
            raise FrameGraphError(f"--gpu-times wants a JSON object pass -> milliseconds: {e}") from None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths = write_all(plan, graph, args.output, gpu_times_ms=times)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    for p in paths.values():
        print(p)
    n = count_sync_entries(plan)
    print(f"{plan.graph} ({plan.strategy}, {args.device}): {len(plan.passes)} passes, {len(plan.culled)} culled, "
          f"{n['barrier']} barrier entries, {n['set_event']} set_event entries, {n['wait_event']} event waits, "
          f"{n['semaphore_wait']} semaphore waits", file=sys.stderr)
    return 0


def add_cli(subparsers) -> argparse.ArgumentParser:
    """Register `viz` on the CLI's subparsers; the handler is `args.fn` (like the other commands)."""
    v = subparsers.add_parser("viz", help="draw a compiled frame: graph.svg, timeline.png, memory.png, explain.txt")
    v.add_argument("graph", help="GRAPH.json, samples/NAME.py (its build_graph()), or a module name")
    v.add_argument("-o", "--output", required=True, help="output directory")
    v.add_argument("--strategy", default="batched", choices=["naive", "per_resource", "batched", "split"])
    v.add_argument("--device", default="lavapipe", help="lavapipe | discrete | PROFILE.json")
    v.add_argument("--gpu-times", help="JSON object pass -> GPU ms: timeline box widths become GPU time")
    v.add_argument("--width", type=int, default=1280, help="for samples' build_graph (default 1280)")
    v.add_argument("--height", type=int, default=720, help="for samples' build_graph (default 720)")
    v.set_defaults(fn=_cmd_viz)
    return v
