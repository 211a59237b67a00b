"""Per-frame CPU of the frame graph (#18): process CPU ms per frame (median) and GPU ms per frame for
the chain, streams and deferred frames in three modes, measured frame by frame in rotation:

    record        declare the frame, plan from the cache, record every command, submit (replay off)
    replay        declare the frame, plan from the cache, re-submit what the frame slot recorded
                  before (Renderer(replay="all"); the deferred frame's upload pass records each frame)
    replay_declared_once  replay, and the frame declared once per slot: render(build, redeclare=False)
                  (no build() call, no plan-cache lookup; resources still resolved every frame).
                  Chain and streams: their frames carry no per-frame data (deferred's upload does)
    hand_written  the same frame recorded every frame by plain code over the same `vulkan` binding and
                  the same pipelines (the graph renderer's), barriers placed by hand, no frame graph:
                  what a Python user would write. Chain only (see README: deferred is not written yet)

plus CPU ms per frame against pass count (chain of 10, 100 and 1,000 passes, tiny dispatches).
CPU time is process CPU (all threads: on lavapipe that includes the driver's own threads) spent in
the frame's call (render() for the graph), the median over frames; GPU ms is the span of the frame's
command buffers from timestamps (barriers included). Validation is off unless --validation on.

    python benchmarks/frame_cpu.py [--tiny] [--out DIR] [--frames N] [--validation on]

Writes DIR/frame_cpu.json: a list of rows {"workload", "mode", "passes", "cpu_ms", "gpu_ms"};
DIR/frame_cpu-details.json: the same with spreads, wall times, the device and the run's settings.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from framegraph import bench  # noqa: E402

MODES = ("record", "replay", "replay_declared_once", "hand_written")
LAVAPIPE_ICD = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"
SWEEP = (10, 100, 1000)
VEC4 = 16


# -- the frames -------------------------------------------------------------------------------------

def frames(tiny: bool) -> dict:
    """name -> (build, output size, workload parameters, pass count of the declared frame)."""
    from benchmarks import workloads
    from samples import deferred

    out = {}
    for name in ("chain", "streams"):
        w = workloads.WORKLOADS[name]
        params = w.params(**(workloads.TINY[name] if tiny else {}))
        passes = params["passes"] if name == "chain" else params["streams"] * params["steps"]
        out[name] = (w.builder(**params), (16, 16) if tiny else (256, 256), params, passes + 1)
    size = (64, 64) if tiny else (1920, 1080)
    shadow = 256 if tiny else deferred.SHADOW_SIZE
    # A fixed animation time: the frames are the same picture whatever the mode (uniforms still go
    # up every frame through the sample's upload pass).
    out["deferred"] = (functools.partial(deferred.build, shadow_size=shadow, time=1.0), size,
                       {"shadow_size": shadow}, None)
    return out


def sweep_chain(passes: int):
    from benchmarks import workloads
    params = dict(passes=passes, elements=256, iterations=2)
    return workloads.WORKLOADS["chain"].builder(**params), (16, 16), params


# -- hand-written --------------------------------------------------------------------------------

class _DeclaredOnce:
    """A Renderer as bench.measure_frames drives it, rendering with redeclare=False."""

    def __init__(self, renderer):
        self.renderer = renderer
        self.target = renderer.target

    def render(self, build):
        return self.renderer.render(build, redeclare=False)

    def wait(self):
        self.renderer.wait()

    def __getattr__(self, name):
        return getattr(self.renderer, name)


class HandChain:
    """The chain frame by hand: two storage buffers ping-ponged (link k reads one, writes the other),
    one global memory barrier between dispatches (compute write -> compute read/write), the resolve
    into the output image, then the same readback copy the offscreen target does. Same shaders,
    pipelines (from the graph renderer's Pipelines), push constants and dispatch sizes as the
    workload; re-recorded every frame (ONE_TIME_SUBMIT, pool reset), one frame in flight. Duck-types
    the Renderer for bench.measure_frames: render(), wait(), last_gpu_frame_ms."""

    def __init__(self, renderer, *, passes: int, elements: int, iterations: int, size, readback: bool = True):
        import vulkan as vk
        from vulkan import ffi, lib

        from benchmarks.workloads import _buffer_push, _seed

        self.vk, self.ffi, self.lib = vk, ffi, lib
        self.ctx = ctx = renderer.ctx
        self.allocator = renderer.allocator
        self.pipelines = p = renderer.pipelines
        self.passes, self.elements = passes, elements
        self.width, self.height = size
        self.family, _, self.queue = ctx.queues["graphics"]
        self.last_gpu_frame_ms = None
        self._objects = []
        usage = vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT
        nbytes = elements * VEC4
        self.buffers = [self.allocator.buffer(name=f"hand.chain{i}", size=nbytes, usage=usage) for i in range(2)]
        self.image = self.allocator.image(name="hand.output", format=vk.VK_FORMAT_R8G8B8A8_UNORM,
                                          extent=(self.width, self.height, 1),
                                          usage=vk.VK_IMAGE_USAGE_STORAGE_BIT | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT)
        self.host = (self.allocator.staging(name="hand.readback", size=self.width * self.height * 4, readback=True)
                     if readback else None)
        self.fill, self.step = p.compute("bench_fill_buffer.comp"), p.compute("bench_step_buffer.comp")
        self.resolve = p.compute("bench_resolve_buffer.comp")

        def buf(i):
            return ("buffer", self.buffers[i].handle, 0, nbytes)

        # What an expert builds once: descriptor writes, push constant bytes, barrier infos.
        self.links = []
        for k in range(passes):
            pipe = self.fill if k == 0 else self.step
            values = {0: buf(0)} if k == 0 else {0: buf((k - 1) % 2), 1: buf(k % 2)}
            writes = p.writes(pipe, values)
            push = _buffer_push(elements, iterations, _seed(k))
            self.links.append((pipe, ffi.new("VkWriteDescriptorSet[]", writes), len(writes), writes,
                               ffi.new("char[]", push), len(push), -(-elements // (pipe.local_size or (64,))[0])))
        last = (passes - 1) % 2
        rwrites = p.writes(self.resolve, {0: buf(last), 1: ("image", self.image.view(), vk.VK_IMAGE_LAYOUT_GENERAL,
                                                             None)})
        self.rwrites = (ffi.new("VkWriteDescriptorSet[]", rwrites), len(rwrites), rwrites)
        self.rpush = ffi.new("char[]", struct.pack("I", elements))
        lx, ly, _ = self.resolve.local_size or (8, 8, 1)
        self.rgroups = (-(-self.width // lx), -(-self.height // ly))
        S, A = vk, vk
        compute, storage_w = S.VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT, A.VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT
        storage_rw = A.VK_ACCESS_2_SHADER_STORAGE_READ_BIT | storage_w
        self.between = self._dependency(memory=[vk.VkMemoryBarrier2(
            srcStageMask=compute, srcAccessMask=storage_w, dstStageMask=compute, dstAccessMask=storage_rw)])
        color = vk.VkImageSubresourceRange(aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT, baseMipLevel=0, levelCount=1,
                                           baseArrayLayer=0, layerCount=1)
        ignored = vk.VK_QUEUE_FAMILY_IGNORED
        # Before the resolve: the last link's writes visible to it, and the output image (contents
        # not needed: UNDEFINED) into GENERAL for storage writes -- one barrier call.
        self.before_resolve = self._dependency(
            memory=[vk.VkMemoryBarrier2(srcStageMask=compute, srcAccessMask=storage_w, dstStageMask=compute,
                                        dstAccessMask=A.VK_ACCESS_2_SHADER_STORAGE_READ_BIT)],
            images=[vk.VkImageMemoryBarrier2(
                srcStageMask=0, srcAccessMask=0, dstStageMask=compute, dstAccessMask=storage_w,
                oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, newLayout=vk.VK_IMAGE_LAYOUT_GENERAL,
                srcQueueFamilyIndex=ignored, dstQueueFamilyIndex=ignored, image=self.image.handle,
                subresourceRange=color)])
        transfer = S.VK_PIPELINE_STAGE_2_COPY_BIT
        self.before_copy = self._dependency(images=[vk.VkImageMemoryBarrier2(
            srcStageMask=compute, srcAccessMask=storage_w, dstStageMask=transfer,
            dstAccessMask=A.VK_ACCESS_2_TRANSFER_READ_BIT, oldLayout=vk.VK_IMAGE_LAYOUT_GENERAL,
            newLayout=vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, srcQueueFamilyIndex=ignored,
            dstQueueFamilyIndex=ignored, image=self.image.handle, subresourceRange=color)])
        self.after_copy = self._dependency(memory=[vk.VkMemoryBarrier2(
            srcStageMask=transfer, srcAccessMask=A.VK_ACCESS_2_TRANSFER_WRITE_BIT,
            dstStageMask=S.VK_PIPELINE_STAGE_2_HOST_BIT, dstAccessMask=A.VK_ACCESS_2_HOST_READ_BIT)])
        self.region = vk.VkBufferImageCopy(
            bufferOffset=0, imageSubresource=vk.VkImageSubresourceLayers(
                aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT, mipLevel=0, baseArrayLayer=0, layerCount=1),
            imageOffset=vk.VkOffset3D(x=0, y=0, z=0),
            imageExtent=vk.VkExtent3D(width=self.width, height=self.height, depth=1))
        self.pool = ctx.create("VkCommandPool", vk.VkCommandPoolCreateInfo(
            flags=vk.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT, queueFamilyIndex=self.family), name="hand.pool")
        (self.cmd,) = ctx.allocate_command_buffers(self.pool, 1, name="hand.cmd")
        self.fence = ctx.create("VkFence", vk.VkFenceCreateInfo(), name="hand.fence")
        self.queries = ctx.create("VkQueryPool", vk.VkQueryPoolCreateInfo(
            queryType=vk.VK_QUERY_TYPE_TIMESTAMP, queryCount=2), name="hand.timestamps")
        self._objects = [(self.queries, "VkQueryPool"), (self.fence, "VkFence"), (self.cmd, "VkCommandBuffer"),
                         (self.pool, "VkCommandPool")]
        self.begin = vk.VkCommandBufferBeginInfo(flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)
        self.submit_info = vk.VkSubmitInfo2(pCommandBufferInfos=[vk.VkCommandBufferSubmitInfo(commandBuffer=self.cmd)])
        self.pending = False
        self.period_ns = ctx.timestamp_period_ns
        self.push_set = p.cmd_push_descriptor_set
        if self.push_set is None:
            raise RuntimeError("the hand-written chain uses push descriptors, which this device lacks")

    def _dependency(self, memory=(), images=()):
        info = self.vk.VkDependencyInfo(pMemoryBarriers=list(memory) or None, pImageMemoryBarriers=list(images) or None)
        return info, self.ffi.addressof(info)

    def render(self, _build=None):
        vk, lib, cmd = self.vk, self.lib, self.cmd
        vk.vkResetCommandPool(self.ctx.device, self.pool, 0)
        vk.vkResetQueryPool(self.ctx.device, self.queries, 0, 2)
        vk.vkBeginCommandBuffer(cmd, self.begin)
        lib.vkCmdWriteTimestamp2(cmd, vk.VK_PIPELINE_STAGE_2_TOP_OF_PIPE_BIT, self.queries, 0)
        point = vk.VK_PIPELINE_BIND_POINT_COMPUTE
        bound = None
        for k, (pipe, writes, nwrites, _, push, npush, groups) in enumerate(self.links):
            if k:
                lib.vkCmdPipelineBarrier2(cmd, self.between[1])
            if pipe is not bound:
                lib.vkCmdBindPipeline(cmd, point, pipe.handle)
                bound = pipe
            self.push_set(cmd, point, pipe.layout, 0, nwrites, writes)
            lib.vkCmdPushConstants(cmd, pipe.layout, pipe.push_stages, 0, npush, push)
            lib.vkCmdDispatch(cmd, groups, 1, 1)
        lib.vkCmdPipelineBarrier2(cmd, self.before_resolve[1])
        lib.vkCmdBindPipeline(cmd, point, self.resolve.handle)
        self.push_set(cmd, point, self.resolve.layout, 0, self.rwrites[1], self.rwrites[0])
        lib.vkCmdPushConstants(cmd, self.resolve.layout, self.resolve.push_stages, 0, 4, self.rpush)
        lib.vkCmdDispatch(cmd, self.rgroups[0], self.rgroups[1], 1)
        if self.host is not None:
            lib.vkCmdPipelineBarrier2(cmd, self.before_copy[1])
            lib.vkCmdCopyImageToBuffer(cmd, self.image.handle, vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                       self.host.handle, 1, self.ffi.addressof(self.region))
            lib.vkCmdPipelineBarrier2(cmd, self.after_copy[1])
        lib.vkCmdWriteTimestamp2(cmd, vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, self.queries, 1)
        vk.vkEndCommandBuffer(cmd)
        vk.vkQueueSubmit2(self.queue, 1, [self.submit_info], self.fence)
        self.pending = True

    def wait(self):
        vk = self.vk
        if not self.pending:
            return
        vk.vkWaitForFences(self.ctx.device, 1, [self.fence], vk.VK_TRUE, vk.UINT64_MAX)
        vk.vkResetFences(self.ctx.device, 1, [self.fence])
        self.pending = False
        data = self.ffi.new("uint64_t[2]")
        vk.vkGetQueryPoolResults(self.ctx.device, self.queries, 0, 2, 16, data, 8,
                                 vk.VK_QUERY_RESULT_64_BIT | vk.VK_QUERY_RESULT_WAIT_BIT)
        self.last_gpu_frame_ms = (data[1] - data[0]) * self.period_ns / 1e6

    def read(self):
        import numpy as np
        self.wait()
        return self.host.read().reshape(self.height, self.width, 4) if self.host is not None else np.zeros(0)

    def close(self):
        self.wait()
        for handle, kind in self._objects:
            self.ctx.release(handle, kind)
        for r in [self.host, self.image, *self.buffers]:
            if r is not None:
                self.allocator.free(r)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# -- measuring -----------------------------------------------------------------------------------

def measure(ctx, name: str, build, size, *, modes, frames: int, warmup: int, hand_params=None) -> list[dict]:
    """Every mode of one frame, measured one frame each in rotation (see strategies.run_interleaved:
    a GPU's clock state otherwise follows the order of the blocks)."""
    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    times = {m: {"process_cpu_ms": [], "cpu_ms": [], "gpu_ms": []} for m in modes}
    extra = {}
    with contextlib.ExitStack() as stack:
        runners = {}
        record = None
        for mode in modes:
            if mode == "hand_written":
                continue
            r = stack.enter_context(Renderer(ctx, OffscreenTarget(*size), timestamps="frame", frames_in_flight=1,
                                             replay=False if mode == "record" else "all", name=f"{name}-{mode}"))
            runners[mode] = _DeclaredOnce(r) if mode == "replay_declared_once" else r
            record = record or r
        if "hand_written" in modes:
            owner = record or stack.enter_context(Renderer(ctx, OffscreenTarget(*size), timestamps="frame"))
            runners["hand_written"] = stack.enter_context(HandChain(owner, size=size, **hand_params))
        order = list(runners)
        for i in range(warmup + frames):
            rotation = order[i % len(order):] + order[:i % len(order)]
            for mode in rotation:
                one = bench.measure_frames(runners[mode], build, frames=1, warmup=0)
                if i >= warmup:
                    for key in times[mode]:
                        times[mode][key] += one[key]
        for mode, r in runners.items():
            if mode != "hand_written":
                extra[mode] = {"plan_passes": len(r.last_plan.passes), "compiles": r.compiles,
                               "recorded_last_frame": r.last_recorded}
        images = {m: (r.read() if m == "hand_written" else r.target.read()) for m, r in runners.items()}
    rows = []
    for mode in order:
        t = times[mode]
        rows.append({"workload": name, "mode": mode,
                     "passes": extra.get(mode, extra.get("record", {})).get("plan_passes"),
                     "cpu_ms": bench.summarize(t["process_cpu_ms"])["median"],
                     "gpu_ms": bench.summarize(t["gpu_ms"])["median"] if t["gpu_ms"] else None,
                     "detail": {"process_cpu_ms": bench.summarize(t["process_cpu_ms"]),
                                "wall_ms": bench.summarize(t["cpu_ms"]), "gpu_ms": bench.summarize(t["gpu_ms"]),
                                **extra.get(mode, {})}})
    first = images.get("record")
    for row in rows:
        if first is not None and images[row["mode"]].shape == first.shape:
            row["detail"]["image_equals_record"] = bool((images[row["mode"]] == first).all())
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="lavapipe-sized frames: runs in seconds")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), metavar="DIR")
    parser.add_argument("--frames", type=int, help="timed frames per mode (default 200, --tiny 40)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--sweep", type=int, nargs="*", default=list(SWEEP), metavar="N",
                        help="chain pass counts for CPU ms vs passes (default 10 100 1000)")
    parser.add_argument("--workloads", nargs="*", default=["chain", "streams", "deferred"])
    parser.add_argument("--validation", choices=("on", "off"), default="off")
    parser.add_argument("--tag", help="file name tag: frame_cpu-TAG.json (default: frame_cpu.json)")
    args = parser.parse_args(argv)
    if args.tiny and "VK_DRIVER_FILES" not in os.environ and os.path.exists(LAVAPIPE_ICD):
        os.environ["VK_DRIVER_FILES"] = LAVAPIPE_ICD
    frames_n = args.frames or (40 if args.tiny else 200)

    from framegraph.backends.vulkan import VulkanContext

    rows = []
    started = time.perf_counter()
    with VulkanContext(app_name="frame_cpu", validation=args.validation == "on") as ctx:
        device = {"name": ctx.device_name, "driver": getattr(ctx, "driver_info", None)}
        for name, (build, size, params, _) in frames(args.tiny).items():
            if name not in args.workloads:
                continue
            modes = {"chain": MODES, "streams": MODES[:3]}.get(name, MODES[:2])
            hand = {k: params[k] for k in ("passes", "elements", "iterations")} if name == "chain" else None
            rows += measure(ctx, name, build, size, modes=modes, frames=frames_n, warmup=args.warmup, hand_params=hand)
            print(f"{name}: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        for n in args.sweep:
            build, size, params = sweep_chain(n)
            few = max(5, frames_n // (1 if n <= 100 else 4))
            for row in measure(ctx, f"chain_sweep", build, size, modes=MODES, frames=few, warmup=2, hand_params=params):
                row["workload"] = f"chain_{n}"
                rows.append(row)
            print(f"chain {n}: done ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        messages = [str(m) for m in ctx.messages.drain()]
    out = Path(args.out)
    stem = f"frame_cpu-{args.tag}" if args.tag else "frame_cpu"
    bench.write_json(out / f"{stem}.json", [{k: r[k] for k in ("workload", "mode", "passes", "cpu_ms", "gpu_ms")}
                                            for r in rows])
    details = {"environment": bench.environment(device), "tiny": args.tiny, "frames": frames_n,
               "validation": args.validation, "validation_messages": messages[:20], "rows": rows,
               "seconds": time.perf_counter() - started}
    bench.write_json(out / f"{stem}-details.json", details)
    print(table(rows))
    print(f"wrote {out / (stem + '.json')}")
    return 1 if messages else 0


def table(rows) -> str:
    lines = ["| workload | mode | passes | CPU ms/frame | GPU ms/frame | x record (CPU) |", "|---|---|---:|---:|---:|---:|"]
    record = {r["workload"]: r["cpu_ms"] for r in rows if r["mode"] == "record"}
    for r in rows:
        gpu = "-" if r["gpu_ms"] is None else f"{r['gpu_ms']:.3f}"
        ratio = r["cpu_ms"] / record[r["workload"]] if record.get(r["workload"]) else float("nan")
        lines.append(f"| {r['workload']} | {r['mode']} | {r['passes']} | {r['cpu_ms']:.3f} | {gpu} | {ratio:.2f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
