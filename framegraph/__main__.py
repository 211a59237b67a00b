"""`python -m framegraph`: compile, verify, viz, bench, info, demo."""
from __future__ import annotations

import argparse
import json
import sys

from .errors import FrameGraphError


def _cmd_compile(args) -> int:
    from .compiler import compile
    from .graph_json import load_graph
    with open(args.graph) as f:
        graph = load_graph(f.read())
    plan = compile(graph, strategy=args.strategy, device=args.device)
    text = plan.to_json()
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    else:
        print(text)
    s = plan.stats
    print(f"{graph.name}: {s['passes']} passes ({s['culled']} culled), {s['submits']} submits, "
          f"{s['barrier_calls']} barrier calls ({s['image_barriers']} image, {s['buffer_barriers']} buffer, "
          f"{s['memory_barriers']} memory), {s['events']} events, {s['semaphore_waits']} semaphore waits",
          file=sys.stderr)
    print(memory_report(s), file=sys.stderr)
    return 0


def memory_report(stats: dict) -> str:
    """One line: transient bytes aliased, unaliased and the lower bound, with the saving and the
    distance to the bound."""
    aliased, unaliased = stats["transient_bytes"], stats["transient_bytes_unaliased"]
    bound = stats["transient_bytes_lower_bound"]
    mib = 1 << 20
    saved = f", {1 - aliased / unaliased:.1%} saved" if unaliased else ""
    over = f" ({aliased / bound:.3f}x)" if bound else ""
    return (f"transient memory: {aliased} bytes aliased ({aliased / mib:.1f} MiB), {unaliased} unaliased "
            f"({unaliased / mib:.1f} MiB){saved}; lower bound {bound}{over}")


def _cmd_verify(args) -> int:
    from .consistency import check_plan_against_graph
    from .graph_json import load_graph
    from .verifier import verify_plan
    with open(args.graph) as f:
        graph = load_graph(f.read())
    try:
        with open(args.plan) as f:
            plan = json.load(f)
    except json.JSONDecodeError as e:
        raise FrameGraphError(f"malformed plan JSON: {e}") from None
    problems = [str(p) for p in check_plan_against_graph(graph, plan)]
    problems += [str(p) for p in verify_plan(plan, driver_rules=args.driver_rules)]
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)" if problems else "plan verified: 0 problems")
    return 1 if problems else 0


def _cmd_info(args) -> int:
    from .backends.vulkan.info import info_text
    print(info_text())
    return 0


def _cmd_demo(args) -> int:
    # The samples install as framegraph.samples: the demo runs from any directory.
    from .samples import demo
    return demo.main(["--out", args.out] + args.rest)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m framegraph", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("compile", help="compile a framegraph-graph/1 file to a framegraph-plan/1 file")
    c.add_argument("graph")
    c.add_argument("--strategy", default="batched", choices=["naive", "per_resource", "batched", "split"])
    c.add_argument("--device", default="lavapipe", help="lavapipe | discrete | PROFILE.json")
    c.add_argument("-o", "--output")
    c.set_defaults(fn=_cmd_compile)
    v = sub.add_parser("verify", help="verify a plan against its graph (exit 1 on any problem)")
    v.add_argument("graph")
    v.add_argument("plan")
    v.add_argument("--driver-rules", action="store_true",
                   help="also flag split-barrier shapes that corrupted renders on a real driver (the H100)")
    v.set_defaults(fn=_cmd_verify)
    i = sub.add_parser("info", help="Vulkan loader, devices, queue families, validation")
    i.set_defaults(fn=_cmd_info)
    d = sub.add_parser("demo", help="render the demo to a PNG")
    d.add_argument("--out", default="out/demo.png")
    d.add_argument("rest", nargs=argparse.REMAINDER)
    d.set_defaults(fn=_cmd_demo)
    from .bench import add_cli as add_bench
    from .viz import add_cli as add_viz
    add_viz(sub)
    add_bench(sub)
    args = ap.parse_args(argv)
    try:
        return args.fn(args)
    except FrameGraphError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
