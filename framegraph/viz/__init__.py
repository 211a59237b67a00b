"""See a compiled frame: the graph (DOT/SVG), the queue timeline, transient memory, and every
synchronization entry explained in words. Figures are plain matplotlib `Figure`s (Agg, no pyplot
state), so notebooks can show them and scripts can save them."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import re
import sys
import warnings
from pathlib import Path

from ..errors import FrameGraphError
from ..graph import FrameGraph, Graph
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


_MODULE_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")


def load_graph_source(source: str, *, width: int = 1280, height: int = 720):
    """The graph to draw: a Graph from a `framegraph-graph/1` JSON file, or a FrameGraph from Python
    named explicitly: a `.py` file's `build_graph(width=..., height=...)`, or `module:function`
    (imported from sys.path, then called the same way).

    Any other source is a JSON file, whatever its suffix (`plan.JSON`, `graph.txt`): a path is never
    taken as a module name, so no Python from the current directory runs unless it is asked for."""
    if not isinstance(source, str):
        raise FrameGraphError(f"graph source must be a path or module:function, got {type(source).__name__}")
    path = Path(source)
    if source.endswith(".py"):
        module, function = _module_from_file(path, source), "build_graph"
    elif _MODULE_REF.match(source) and not path.exists():
        name, function = source.split(":")
        try:
            module = importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - the module's own code failed
            raise FrameGraphError(f"cannot import {name!r} for {source}: {type(e).__name__}: {e}") from None
    else:
        from ..graph_json import graph_from_dict, read_json_file
        return graph_from_dict(read_json_file(source, "graph"))
    build = getattr(module, function, None)
    if not callable(build):
        raise FrameGraphError(f"{source} has no {function}(width=..., height=...) function")
    try:
        params = inspect.signature(build).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs = {k: v for k, v in (("width", width), ("height", height)) if k in params}
    try:
        fg = build(**kwargs)
    except FrameGraphError:
        raise
    except Exception as e:  # noqa: BLE001 - the sample's own code failed
        raise FrameGraphError(f"{source}: {function}() raised {type(e).__name__}: {e}") from None
    if not isinstance(fg, (FrameGraph, Graph)):
        raise FrameGraphError(f"{source}: {function}() returned {type(fg).__name__} (expected a FrameGraph)")
    return fg


def _module_from_file(path: Path, source: str):
    path = path.resolve()
    if not path.is_file():
        raise FrameGraphError(f"no such sample: {source}")
    try:
        from .. import samples as _samples
        if path.parent == Path(_samples.__file__).resolve().parent:
            # One of framegraph's own samples (a checkout's samples/ or the installed package): the
            # same module object every other import of it gets, with no sys.path edit.
            return importlib.import_module(f"framegraph.samples.{path.stem}")
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    except Exception as e:  # noqa: BLE001 - the sample's own code failed
        raise FrameGraphError(f"cannot load {source}: {type(e).__name__}: {e}") from None


def _cmd_viz(args) -> int:
    from ..compiler import compile
    graph = load_graph_source(args.graph, width=args.width, height=args.height)
    plan = compile(graph, strategy=args.strategy, device=args.device)
    times = None
    if args.gpu_times:
        from ..graph_json import read_json_file
        raw = read_json_file(args.gpu_times, "--gpu-times file")
        if not isinstance(raw, dict) or not all(type(v) in (int, float) and 0 <= v < float("inf")
                                                for v in raw.values()):
            raise FrameGraphError("--gpu-times wants a JSON object pass -> milliseconds (finite, >= 0)")
        times = {k: float(v) for k, v in raw.items()}
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
    v.add_argument("graph", help="GRAPH.json (any path not ending in .py is read as JSON), samples/NAME.py "
                   "(its build_graph()), or module:function")
    v.add_argument("-o", "--output", required=True, help="output directory")
    v.add_argument("--strategy", default="batched", choices=["naive", "per_resource", "batched", "split"])
    v.add_argument("--device", default="lavapipe", help="lavapipe | discrete | PROFILE.json")
    v.add_argument("--gpu-times", help="JSON object pass -> GPU ms: timeline box widths become GPU time")
    v.add_argument("--width", type=int, default=1280, help="for samples' build_graph (default 1280)")
    v.add_argument("--height", type=int, default=720, help="for samples' build_graph (default 720)")
    v.set_defaults(fn=_cmd_viz)
    return v
