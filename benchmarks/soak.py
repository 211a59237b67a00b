"""Soak: render many small offscreen frames of samples/multipass.py and check that nothing grows.

Reports process RSS and live Vulkan object counts after a warm-up and at the end (they must be
flat), RSS samples along the way (raw, and after malloc_trim: glibc keeps what Python frees, so raw
RSS creeps up by about a megabyte while nothing is held), frame times, compiles and allocations, the validation messages
seen, and that the last image equals the first. Writes JSON to benchmarks/results/.

    python benchmarks/soak.py [--frames 10000] [--size 16x16] [--strategy batched] [--out PATH]
"""
from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WARMUP = 50


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def trimmed_rss_bytes() -> int:
    """RSS after glibc gives back the free memory it keeps (malloc_trim): what is really held."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass
    return rss_bytes()


def load_multipass():
    spec = importlib.util.spec_from_file_location("framegraph_sample_multipass", ROOT / "samples" / "multipass.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def soak(*, frames: int, size: tuple[int, int], strategy: str, samples: int = 20) -> dict:
    from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext

    multipass = load_multipass()
    ctx = VulkanContext(app_name="soak")
    baseline_objects = ctx.live_objects()
    target = OffscreenTarget(*size)
    renderer = Renderer(ctx, target, strategy=strategy)
    messages = []
    try:
        for _ in range(WARMUP):
            renderer.render(multipass.build)
        first = target.read()
        messages += ctx.messages.drain()
        start = {"frame": renderer.frame, "rss_bytes": rss_bytes(), "rss_trimmed_bytes": trimmed_rss_bytes(),
                 "python_blocks": sys.getallocatedblocks(), "live_objects": ctx.live_objects(),
                 "live_total": ctx.live_count(), "allocations": renderer.resources.allocations,
                 "compiles": renderer.compiles}
        every = max(1, frames // samples)
        rss_samples = []
        begin = time.perf_counter()
        for i in range(frames):
            renderer.render(multipass.build)
            if (i + 1) % every == 0:
                rss_samples.append([renderer.frame, rss_bytes(), trimmed_rss_bytes(), ctx.live_count()])
                messages += ctx.messages.drain()
        elapsed = time.perf_counter() - begin
        last = target.read()
        renderer.wait()
        gpu = dict(renderer.last_gpu_times_ms)
        end = {"frame": renderer.frame, "rss_bytes": rss_bytes(), "rss_trimmed_bytes": trimmed_rss_bytes(),
               "python_blocks": sys.getallocatedblocks(), "live_objects": ctx.live_objects(),
               "live_total": ctx.live_count(), "allocations": renderer.resources.allocations,
               "compiles": renderer.compiles}
    finally:
        renderer.close()
    after_close = ctx.live_objects()
    ctx.destroy()
    messages += ctx.messages.drain()
    growth = end["rss_bytes"] - start["rss_bytes"]
    # glibc keeps freed memory and one arena comes and goes (~1 MiB): compare the lowest trimmed RSS of
    # the first and second halves of the run, which a leak would raise and that noise does not.
    half = len(rss_samples) // 2
    trimmed_drift = (min(r[2] for r in rss_samples[half:]) - min(r[2] for r in rss_samples[:half])
                     if half else 0)
    return {
        "benchmark": "soak", "sample": "multipass", "frames": frames, "warmup_frames": WARMUP,
        "size": list(size), "strategy": strategy, "frames_in_flight": renderer.frames_in_flight,
        "device": ctx.physical.name if hasattr(ctx, "physical") else None,
        "validation": ctx.validation, "sync_validation": ctx.sync_validation,
        "python": platform.python_version(), "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 3), "ms_per_frame": round(1000 * elapsed / frames, 4),
        "start": start, "end": end,
        "rss_growth_bytes": growth, "rss_growth_per_1000_frames": round(growth * 1000 / frames),
        "rss_trimmed_growth_bytes": end["rss_trimmed_bytes"] - start["rss_trimmed_bytes"],
        "python_blocks_growth": end["python_blocks"] - start["python_blocks"],
        "rss_samples_columns": ["frame", "rss_bytes", "rss_trimmed_bytes", "live_objects"],
        "rss_samples": rss_samples,
        "rss_trimmed_drift_bytes": trimmed_drift,
        "rss_flat": trimmed_drift < 1024 * 1024,
        "live_objects_flat": start["live_objects"] == end["live_objects"],
        "live_objects_after_close": after_close, "baseline_objects": baseline_objects,
        "released_everything": after_close == baseline_objects,
        "last_image_equals_first": bool(np.array_equal(first, last)),
        "gpu_ms_last_frame": gpu,
        "validation_messages": [str(m) for m in messages if m.type == "VALIDATION"][:20],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--size", default="16x16")
    parser.add_argument("--strategy", default="batched")
    parser.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/soak-<device>.json)")
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    result = soak(frames=args.frames, size=size, strategy=args.strategy)
    device = (result["device"] or "unknown").split()[0].lower()
    out = Path(args.out) if args.out else ROOT / "benchmarks" / "results" / f"soak-{device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    mib = 1024 * 1024
    print(f"{result['frames']} frames in {result['elapsed_s']} s ({result['ms_per_frame']} ms/frame) on "
          f"{result['device']}, validation={'on' if result['validation'] else 'off'}")
    print(f"RSS {result['start']['rss_bytes'] / mib:.1f} -> {result['end']['rss_bytes'] / mib:.1f} MiB "
          f"({result['rss_growth_bytes'] / 1024:+.0f} KiB; after malloc_trim "
          f"{result['rss_trimmed_growth_bytes'] / 1024:+.0f} KiB; Python blocks "
          f"{result['python_blocks_growth']:+d}; trimmed drift {result['rss_trimmed_drift_bytes'] / 1024:+.0f} KiB, "
          f"flat: {result['rss_flat']}); live objects {result['start']['live_total']} -> "
          f"{result['end']['live_total']} (flat: {result['live_objects_flat']}); released everything: "
          f"{result['released_everything']}; image stable: {result['last_image_equals_first']}; "
          f"validation messages: {len(result['validation_messages'])}")
    print(out)
    ok = (result["live_objects_flat"] and result["rss_flat"] and result["released_everything"] and result["last_image_equals_first"]
          and not result["validation_messages"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
