"""Does recording on several threads help under the GIL (#18)? K command buffers, each from its own
command pool (pools are externally synchronized: one per thread), each holding a chain of N
dispatches recorded by plain code (benchmarks/hand_written.HandChain: push descriptors, push
constants, barriers), recorded one after another on this thread vs on K threads at once.
Nothing is submitted. Prints and writes DIR/frame_cpu-threads[-TAG].json.

    python benchmarks/threaded_recording.py [--tiny] [--threads 1 2 4 8] [--passes 200] [--rounds 30]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from framegraph import bench  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--passes", type=int, default=200, help="dispatches per command buffer")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--tag")
    args = parser.parse_args(argv)
    if args.tiny:
        os.environ.setdefault("VK_DRIVER_FILES", "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json")
    from benchmarks.frame_cpu import describe
    from benchmarks.hand_written import HandChain
    from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext

    rows = []
    with VulkanContext(app_name="threaded_recording", validation=False) as ctx, \
            Renderer(ctx, OffscreenTarget(16, 16)) as renderer:
        most = max(args.threads)
        chains = [HandChain(renderer, passes=args.passes, elements=256, iterations=2, size=(16, 16), readback=False)
                  for _ in range(most)]
        try:
            with ThreadPoolExecutor(most) as pool:
                for k in args.threads:
                    mine = chains[:k]
                    serial, threaded = [], []
                    for _ in range(args.rounds):
                        t0 = time.perf_counter()
                        for c in mine:
                            c.record_only()
                        t1 = time.perf_counter()
                        list(pool.map(lambda c: c.record_only(), mine))
                        t2 = time.perf_counter()
                        serial.append((t1 - t0) * 1e3)
                        threaded.append((t2 - t1) * 1e3)
                    row = {"command_buffers": k, "dispatches_each": args.passes,
                           "serial_ms": statistics.median(serial), "threaded_ms": statistics.median(threaded)}
                    row["speedup"] = row["serial_ms"] / row["threaded_ms"]
                    rows.append(row)
                    print(f"{k} command buffers x {args.passes} dispatches: one thread {row['serial_ms']:.2f} ms, "
                          f"{k} threads {row['threaded_ms']:.2f} ms (x{row['speedup']:.2f})")
        finally:
            for c in chains:
                c.close()
        device = describe(ctx)
    stem = "frame_cpu-threads" + (f"-{args.tag}" if args.tag else "")
    bench.write_json(Path(args.out) / f"{stem}.json", {"environment": bench.environment(device),
                                                        "cpus": os.cpu_count(), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
