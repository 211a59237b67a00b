"""Placement experiments for issue #7 (prototypes only: the compiler's policies are in
framegraph/compiler/placement.py and are not changed here).

    python benchmarks/placement_experiments.py [--width 1920 --height 1080] [--instances 300]

Three questions, answered from the same numbers benchmarks/memory.py reports:

1. Is placement the gap? For each graph: the compiled order's lower bound (largest live sum) and the
   order-independent floor (the largest sum of transients one pass touches: they must all be live at
   once in any order). When the placement reaches the lower bound and the floor equals it, neither a
   better policy nor a reordering can save more: only the graph can.
2. What would a graph change buy? `deferred_post` lights with all four shadow cascades at once (a
   64 MiB 4-layer shadow map live with the whole G-buffer). The variant `deferred_post_shadow_mask`
   projects each cascade into a screen-space shadow mask right after rendering it (the "shadow
   projection" of Unreal-style deferred renderers): four 16 MiB single-layer shadow maps with disjoint
   lifetimes, which aliasing stacks on the same bytes.
3. Can a better policy than best_fit / first_fit close the gap where there is one? Prototype policies
   over (size, alignment, lifetime) items: `tightest_gap` (size-descending, but each item goes in the
   smallest free gap it fits rather than the lowest offset; TFLite's "greedy by size" allocator) and
   `multi_start` (the best of several orders x {lowest offset, tightest gap}). Measured on the graphs
   and on random instances with frame-like sizes, against the lower bound.
Writes benchmarks/results/placement_experiments.json and .md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import framegraph  # noqa: E402
from framegraph import CompileOptions  # noqa: E402

from benchmarks.memory import (build_deferred_post, build_deferred_post_shadow_mask, floors,  # noqa: E402
                               transient_lifetimes)

MiB = 1 << 20


# -- 1. where the gap is: benchmarks/memory.py's floors() -----------------------------------------


# -- 2. a graph change ------------------------------------------------------------------------------
# build_deferred_post_shadow_mask lives in benchmarks/memory.py (measured there with real requirements too).


# -- 3. prototype policies ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    id: object
    size: int
    align: int
    first: int
    last: int


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a


def place(items, *, order, choose: str = "lowest") -> tuple[dict, int]:
    """Place items in `order`; each at the lowest aligned offset that fits among the time-overlapping
    items already placed (`lowest`, the compiler's rule), or in the smallest free gap it fits
    (`tightest`; above everything if no gap fits). Returns offsets and the heap size."""
    placed: list[tuple[Item, int]] = []
    offsets = {}
    top = 0
    for it in order(items):
        busy = sorted((o, o + q.size) for q, o in placed if not (q.last < it.first or it.last < q.first))
        merged: list[list[int]] = []
        for o, e in busy:
            if merged and o <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([o, e])
        gaps, cursor = [], 0
        for o, e in merged:
            gaps.append((cursor, o))
            cursor = e
        fitting = [(s, e) for s, e in gaps if _align(s, it.align) + it.size <= e]
        if fitting and choose == "tightest":
            s, _ = min(fitting, key=lambda g: (g[1] - g[0], g[0]))
            offset = _align(s, it.align)
        elif fitting:
            offset = _align(fitting[0][0], it.align)
        else:
            offset = _align(cursor, it.align)
        offsets[it.id] = offset
        placed.append((it, offset))
        top = max(top, offset + it.size)
    return offsets, top


ORDERS = {
    "size_desc": lambda items: sorted(items, key=lambda i: (-i.size, i.first)),          # compiler best_fit
    "first_use": lambda items: sorted(items, key=lambda i: (i.first, -i.size)),          # compiler first_fit
    "area_desc": lambda items: sorted(items, key=lambda i: (-i.size * (i.last - i.first + 1), i.first)),
    "long_first": lambda items: sorted(items, key=lambda i: (-(i.last - i.first), -i.size)),
}


def policies() -> dict:
    out = {
        "best_fit": lambda items: place(items, order=ORDERS["size_desc"]),
        "first_fit": lambda items: place(items, order=ORDERS["first_use"]),
        "tightest_gap": lambda items: place(items, order=ORDERS["size_desc"], choose="tightest"),
    }

    def multi_start(items):
        return min((place(items, order=o, choose=c) for o in ORDERS.values() for c in ("lowest", "tightest")),
                   key=lambda r: r[1])
    out["multi_start"] = multi_start
    out["auto"] = lambda items: min(out["best_fit"](items), out["first_fit"](items), key=lambda r: r[1])
    return out


def lower_bound(items) -> int:
    events = sorted([(i.first, i.size) for i in items] + [(i.last + 1, -i.size) for i in items],
                    key=lambda e: (e[0], e[1]))
    best = running = 0
    for k, (t, d) in enumerate(events):
        running += d
        if k + 1 == len(events) or events[k + 1][0] != t:
            best = max(best, running)
    return best


def plan_groups(plan, requirements: dict | None) -> list[list[Item]]:
    """The plan's heaps as item groups (the compiler's grouping by kind and memory type kept)."""
    lts = transient_lifetimes(plan)
    groups: dict[int, list[Item]] = {}
    for r in plan.resources:
        if r.heap is None or r.name not in lts:
            continue
        if requirements and r.name in requirements:
            align = requirements[r.name][1]
        else:
            align = 65536 if r.kind == "image" else 256
        groups.setdefault(r.heap, []).append(Item(r.name, r.size, align, *lts[r.name]))
    return list(groups.values())


def graph_row(name, graph, *, device="lavapipe", requirements=None) -> dict:
    from framegraph.verifier import verify_plan

    plan = framegraph.compile(graph, options=CompileOptions(placement="auto"), device=device,
                              memory_requirements=requirements)
    assert not verify_plan(plan.to_dict())
    st = plan.stats
    groups = plan_groups(plan, requirements)
    per_policy = {}
    for pname, fn in policies().items():
        per_policy[pname] = sum(fn(g)[1] for g in groups)
    return {"graph": name, "passes": len(plan.passes), "unaliased": st["transient_bytes_unaliased"],
            "lower_bound": st["transient_bytes_lower_bound"], "compiler_auto": st["transient_bytes"],
            "policies": per_policy, **floors(plan)}


# frame-like sizes: full-res targets of 1/2/4/8 bytes per texel, half and quarter res, shadow maps, buffers
_SIZES = [1920 * 1080 * b for b in (1, 2, 4, 8)] + [960 * 540 * b for b in (4, 8)] + \
         [480 * 270 * 8, 2048 * 2048 * 4, 1024 * 1024 * 4, 4096 * 4096 * 4]


def random_instance(rng: random.Random, n: int, span: int) -> list[Item]:
    items = []
    for k in range(n):
        first = rng.randrange(span)
        length = min(span - first, int(rng.expovariate(1 / 4)) + 1)
        size = _align(rng.choice(_SIZES), 65536)
        items.append(Item(k, size, 65536, first, first + length - 1))
    return items


def random_study(instances: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    fns = policies()
    ratios = {p: [] for p in fns}
    for _ in range(instances):
        items = random_instance(rng, rng.randrange(10, 40), rng.randrange(12, 40))
        lb = lower_bound(items)
        for pname, fn in fns.items():
            ratios[pname].append(fn(items)[1] / lb)
    out = {}
    for pname, rs in ratios.items():
        rs.sort()
        out[pname] = {"mean": sum(rs) / len(rs), "median": rs[len(rs) // 2], "p90": rs[int(0.9 * len(rs))],
                      "max": rs[-1], "within_1_05": sum(r <= 1.05 for r in rs) / len(rs)}
    return out


def markdown(result: dict) -> str:
    lines = [f"# Placement experiments ({result['date']})", "",
             "Generated by `benchmarks/placement_experiments.py` (prototypes; the compiler is unchanged). "
             "Sizes in MiB. Estimator sizes (`lavapipe` profile: images 64 KiB-aligned).", "",
             "## Where the gap is", "",
             "| graph | passes | unaliased | compiled-order lower bound | floor, any order (pass) | peak at | "
             "compiler auto | bound's saving vs unaliased |", "|---|---|---|---|---|---|---|---|"]
    for r in result["graphs"]:
        lines.append(f"| {r['graph']} | {r['passes']} | {r['unaliased'] / MiB:.1f} | {r['lower_bound'] / MiB:.1f} | "
                     f"{r['floor_any_order'] / MiB:.1f} ({r['floor_pass']}) | {r['peak_pass']} | "
                     f"{r['compiler_auto'] / MiB:.1f} | {1 - r['lower_bound'] / r['unaliased']:.1%} |")
    lines += ["", "Live at the peak (MiB):", ""]
    for r in result["graphs"]:
        lines.append(f"- {r['graph']} at `{r['peak_pass']}`: " +
                     ", ".join(f"{n} {s / MiB:.1f}" for n, s in r["live_at_peak"]))
    names = list(result["graphs"][0]["policies"])
    lines += ["", "## Policies on the graphs (heap bytes, MiB; the compiler's heap grouping kept)", "",
              "| graph | lower bound | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for r in result["graphs"]:
        lines.append(f"| {r['graph']} | {r['lower_bound'] / MiB:.1f} | " +
                     " | ".join(f"{r['policies'][n] / MiB:.1f} ({r['policies'][n] / r['lower_bound']:.3f}x)"
                                for n in names) + " |")
    rs = result["random"]
    lines += ["", f"## Policies on {result['instances']} random instances (10-40 items, frame-like sizes, "
              "64 KiB alignment): heap / lower bound", "",
              "| policy | mean | median | p90 | max | share within 1.05x |", "|---|---|---|---|---|---|"]
    for n, s in rs.items():
        lines.append(f"| {n} | {s['mean']:.3f} | {s['median']:.3f} | {s['p90']:.3f} | {s['max']:.3f} | "
                     f"{s['within_1_05']:.0%} |")
    lines += [""]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "placement_experiments.json"))
    args = parser.parse_args(argv)
    graphs = [("deferred_post", build_deferred_post(args.width, args.height).graph()),
              ("deferred_post_shadow_mask", build_deferred_post_shadow_mask(args.width, args.height).graph())]
    try:
        from samples.deferred import build_graph
        graphs.append(("samples.deferred", build_graph(width=args.width, height=args.height).graph()))
    except Exception as error:
        print(f"samples/deferred.py: not measured ({error})", file=sys.stderr)
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "width": args.width, "height": args.height, "instances": args.instances,
              "graphs": [graph_row(n, g) for n, g in graphs], "random": random_study(args.instances)}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    out.with_suffix(".md").write_text(markdown(result))
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
