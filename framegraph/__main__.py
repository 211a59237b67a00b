"""`python -m framegraph`: compile, verify, viz, bench, info, demo.

Exit codes: 0 success; 1 hazards found (`verify` only); 2 bad input (or an internal error), always
with exactly one `error: ...` line on stderr and no traceback unless `--debug` is given.
"""
from __future__ import annotations

import argparse
import sys
import traceback

from .errors import FrameGraphError

EXIT_OK, EXIT_HAZARDS, EXIT_BAD_INPUT = 0, 1, 2


def read_graph(path):
    """A graph file, every field checked (graph_json); any failure is a FrameGraphError."""
    from .graph_json import graph_from_dict, read_json_file
    return graph_from_dict(read_json_file(path, "graph"))


def _write_text(path: str, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except (OSError, ValueError) as e:
        raise FrameGraphError(f"cannot write {path!r}: {getattr(e, 'strerror', None) or e}") from None


def _say(text: str, stream=None) -> None:
    """Print names from the input whatever the terminal's encoding (a plan may name a pass '\\ud800')."""
    stream = stream or sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")


def _cmd_compile(args) -> int:
    from .compiler import compile
    graph = read_graph(args.graph)
    if args.device == "live":
        plan = _compile_on_live_device(graph, args.strategy)
    else:
        plan = compile(graph, strategy=args.strategy, device=args.device)
    text = plan.to_json()
    if args.output:
        _write_text(args.output, text + "\n")
    else:
        _say(text)
    s = plan.stats
    print(f"{graph.name}: {s['passes']} passes ({s['culled']} culled), {s['submits']} submits, "
          f"{s['barrier_calls']} barrier calls ({s['image_barriers']} image, {s['buffer_barriers']} buffer, "
          f"{s['memory_barriers']} memory), {s['events']} events, {s['semaphore_waits']} semaphore waits",
          file=sys.stderr)
    print(memory_report(s), file=sys.stderr)
    return 0


def _compile_on_live_device(graph, strategy):
    """Compile for the Vulkan device this machine has (FRAMEGRAPH_DEVICE picks one by name): its
    queue families and its own memory requirements for each resource, exactly as a Renderer on it
    compiles, so the plan's placements are the ones the backend makes."""
    from .compiler import compile
    try:
        from .backends.vulkan import Allocator, ResourceCache, VulkanContext
        from .backends.vulkan.frames import device_profile
    except (ImportError, OSError) as e:
        raise FrameGraphError(f"--device live needs the Vulkan backend: {e}") from None
    with VulkanContext(validation=False) as ctx:
        allocator = Allocator(ctx)
        cache = ResourceCache(ctx, allocator, frames_in_flight=1)
        try:
            return compile(graph, strategy=strategy, device=device_profile(ctx),
                           memory_requirements=cache.requirements)
        finally:
            cache.close()
            allocator.close()


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
    """Exit 1 when a well-formed plan has hazards; a malformed plan (wrong types, unknown flags,
    sizes past the limits) is listed the same way, one problem per field with its location, but
    exits 2: it is bad input, not a verdict on synchronization."""
    from .consistency import check_plan_against_graph
    from .graph_json import read_json_file
    from .verifier import verify_plan
    from .verifier.plan_model import check_plan
    graph = read_graph(args.graph)
    plan = read_json_file(args.plan, "plan")
    malformed = check_plan(plan)
    if malformed:
        for p in malformed:
            where = ", ".join(w for w in (f"pass '{p.pass_name}'" if p.pass_name else "",
                                          f"resource '{p.resource}'" if p.resource else "") if w)
            _say(f"format: {p.detail}" + (f" ({where})" if where else ""))
        _say(f"{len(malformed)} problem(s)")
        raise FrameGraphError(f"plan {args.plan!r} is malformed: {len(malformed)} problem(s), listed on stdout")
    problems = [str(p) for p in check_plan_against_graph(graph, plan)]
    problems += [str(p) for p in verify_plan(plan, driver_rules=args.driver_rules)]
    for p in problems:
        _say(p)
    _say(f"{len(problems)} problem(s)" if problems else "plan verified: 0 problems")
    return EXIT_HAZARDS if problems else EXIT_OK


def _cmd_info(args) -> int:
    from .backends.vulkan.info import info_text
    print(info_text())
    return 0


def _cmd_demo(args) -> int:
    # The samples install as framegraph.samples: the demo runs from any directory.
    from .samples import demo
    return demo.main(["--out", args.out] + getattr(args, "extra", []))


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is our one `error:` line (and exit 2), not argparse's own exit."""

    def error(self, message):
        self.print_usage(sys.stderr)
        raise _UsageError(message)


def _error(message: str) -> None:
    _say("error: " + " ".join(str(message).split("\n")), sys.stderr)


def main(argv=None) -> int:
    ap = _Parser(prog="python -m framegraph", description=__doc__,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = ap.add_subparsers(dest="cmd", required=True)
    debug = dict(action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error")
    c = sub.add_parser("compile", help="compile a framegraph-graph/1 file to a framegraph-plan/1 file")
    c.add_argument("graph")
    c.add_argument("--strategy", default="batched", choices=["naive", "per_resource", "batched", "split"])
    c.add_argument("--device", default="lavapipe",
                   help="lavapipe | discrete | PROFILE.json | live (this machine's Vulkan device and its memory "
                        "requirements)")
    c.add_argument("-o", "--output")
    c.add_argument("--debug", **debug)
    c.set_defaults(fn=_cmd_compile)
    v = sub.add_parser("verify", help="verify a plan against its graph (exit 1 on any hazard, 2 on a malformed plan)")
    v.add_argument("graph")
    v.add_argument("plan")
    v.add_argument("--driver-rules", action="store_true",
                   help="also flag split-barrier shapes that corrupted renders on a real driver (the H100)")
    v.add_argument("--debug", **debug)
    v.set_defaults(fn=_cmd_verify)
    i = sub.add_parser("info", help="Vulkan loader, devices, queue families, validation")
    i.set_defaults(fn=_cmd_info)
    d = sub.add_parser("demo", help="render the demo to a PNG")
    d.add_argument("--out", default="out/demo.png")
    d.set_defaults(fn=_cmd_demo)
    from .bench import add_cli as add_bench
    from .viz import add_cli as add_viz
    add_viz(sub).add_argument("--debug", **debug)
    add_bench(sub)
    args = None
    try:
        # The demo takes the sample's own options (--size, --frames...) wherever they stand; every
        # other command takes only its own.
        args, extra = ap.parse_known_args(argv)
        if extra and getattr(args, "fn", None) is not _cmd_demo:
            ap.error(f"unrecognized arguments: {' '.join(extra)}")
        args.extra = extra
        return args.fn(args)
    except _UsageError as e:
        _error(e)
    except SystemExit as e:     # --help, or a subcommand that exits on its own
        return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        _error("interrupted")
        return 130
    except Exception as e:      # noqa: BLE001 - the CLI's contract: one error line, never a traceback
        if getattr(args, "debug", False):
            traceback.print_exc()
        if isinstance(e, FrameGraphError):
            _error(e)
        elif isinstance(e, (OSError, UnicodeError)):
            _error(f"{type(e).__name__}: {e}")
        else:
            _error(f"internal error: {type(e).__name__}: {e} (please report it; --debug shows the traceback)")
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
