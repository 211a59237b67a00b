"""The frame loop: declare a frame, compile it (cached), resolve its resources, record and submit
it, frames in flight.

Timeline values in a plan count from 1 per frame; each stream's semaphore gets a base that grows
frame after frame. A frame slot (command pools, events, descriptor pools, query pool, transients)
is reused only after the host has waited for the values its previous frame signalled.
"""
from __future__ import annotations

import _signal  # signal's functions without its enum conversions (~2 us a call): this runs every frame
import os
import signal
import sys
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, NamedTuple

import vulkan as vk
from vulkan import ffi, lib

import framegraph
from framegraph.cache import PlanCache
from framegraph.compiler.barriers import STRATEGIES
from framegraph.errors import expect_int, expect_name, show_value
from framegraph.graph import FrameGraph, Handle
from framegraph.profiles import DeviceProfile, QueueSlot

from .data import _Persistent
from .owner import Owner
from .pipelines import DescriptorArena, Pipelines
from .recorder import Program, check
from .memory import Buffer, Image
from .resources import Allocator, PhysicalBuffer, PhysicalImage, ResourceCache, StagingRing
from .timing import GpuTimer

WAIT_TIMEOUT_NS = 20 * 1_000_000_000
# Set and waited only by commands (sync2 events): the driver may skip host visibility. The binding
# knows only the _KHR spelling, or not at all.
EVENT_CREATE_DEVICE_ONLY = getattr(vk, "VK_EVENT_CREATE_DEVICE_ONLY_BIT_KHR", None) or 0x1


def device_profile(ctx) -> DeviceProfile:
    """The compiler's view of this device: which family and queue each logical queue runs on."""
    return DeviceProfile(name=ctx.device_name,
                         queues={name: QueueSlot(family=q.family, index=q.index) for name, q in ctx.queues.items()},
                         buffer_image_granularity=int(ctx.properties.limits.bufferImageGranularity))


@dataclass
class FrameInfo:
    """What the frame's build function is told; `output` is the target's image, imported."""
    index: int
    slot: int
    time: float
    extent: tuple[int, int] = (0, 0)
    format: str = ""
    output: Handle | None = None
    image_index: int | None = None       # the swapchain image (window targets)
    extra: dict = field(default_factory=dict)


class StreamQueue(NamedTuple):
    handle: Any
    family: int
    index: int
    timestamp_bits: int


_SIGINT = int(signal.SIGINT)


class _InterruptsDeferred:
    """Ctrl-C (SIGINT) waits until the block is done: between handing a frame to the driver and
    recording that it did, a KeyboardInterrupt would leave the host unsure what the GPU has.

    A Python-level handler that only notes the signal, then the previous handler called after the
    block. Blocking SIGINT with pthread_sigmask (what this did before) holds it back for the calling
    thread only: the signal goes to any other thread of the process (a driver's, a BLAS pool's) and
    the interpreter still raises KeyboardInterrupt in the main thread inside the block."""
    __slots__ = ("previous", "pending")

    def __enter__(self):
        self.previous = None
        self.pending = False
        previous = _signal.getsignal(_SIGINT)
        if previous is not None:               # None: installed outside Python, cannot be restored
            try:
                self.previous = _signal.signal(_SIGINT, self._hold)
            except ValueError:                 # not the main thread, which alone gets Python's signals
                pass
        return self

    def _hold(self, signum, frame) -> None:
        self.pending = True

    def __exit__(self, *exc):
        previous = self.previous
        if previous is None:
            return False
        _signal.signal(_SIGINT, previous)
        if self.pending:
            if callable(previous):
                previous(_SIGINT, None)        # default_int_handler raises KeyboardInterrupt here
            elif previous == signal.SIG_DFL:
                os.kill(os.getpid(), _SIGINT)
        return False


def _check_imports(imports: dict, renderer) -> None:
    """What `external=` may be, checked where the user's frame is still in view (a wrong object
    would otherwise fail deep in the backend with no resource named). A persistent resource or
    frame data only in frames of the renderer that made it: its destroy() and read() wait for that
    renderer's frames alone, frame data is written per that renderer's slots, and closing that
    renderer frees it."""
    for name, external in imports.items():
        if isinstance(external, (PhysicalImage, PhysicalBuffer, Image, Buffer)):
            if isinstance(external, _Persistent) and external.renderer is not renderer:
                closed = " (since closed, which freed it)" if external.renderer._closed else ""
                raise framegraph.FrameGraphError(
                    f"made by another renderer{closed}: a persistent resource or frame data is synchronised with "
                    "the frames of the renderer that made it; create it with this one", resource=name)
            continue
        if isinstance(external, ffi.CData) and ffi.typeof(external).kind == "pointer":
            continue
        raise framegraph.FrameGraphError(
            f"external={type(external).__name__} object: an imported resource takes a PhysicalImage or "
            "PhysicalBuffer, a memory.Image or memory.Buffer, or a VkImage/VkBuffer handle", resource=name)


# More frame slots than any swapchain has images (and each slot is command pools, a query pool,
# staging): a larger count is a mistake, e.g. 2**40 would build slots until memory runs out.
MAX_FRAMES_IN_FLIGHT = 16
_TARGET_METHODS = ("attach", "begin_frame", "declare", "end_graph", "reuse_graph", "semaphores", "end_frame",
                   "abort_frame", "close")


def _check_arguments(*, target, strategy, frames_in_flight, options, timestamps, on_compile, name,
                     plan_cache_size, plan_cache, replay) -> tuple[int, int]:
    """Renderer's arguments, each refused at construction with a FrameGraphError naming it (found
    at the first frame instead, or as a bare TypeError from deep inside, they said nothing of
    which argument was wrong). Returns the two counts as ints. Flags take True and False only:
    `"false"` or `0` would otherwise read as a truth value."""
    error = framegraph.FrameGraphError
    if target is not None and not all(callable(getattr(target, m, None)) for m in _TARGET_METHODS):
        raise error(f"takes None, an OffscreenTarget or a WindowTarget, got {show_value(target)}", field="target")
    # None: the strategy of `options` (framegraph.compile's rule).
    if strategy is not None and not (type(strategy) is str and strategy in STRATEGIES):
        raise error(f"unknown strategy {show_value(strategy)} (one of {', '.join(STRATEGIES)})", field="strategy")
    frames_in_flight = expect_int(frames_in_flight, "frames_in_flight", 1, MAX_FRAMES_IN_FLIGHT)
    if options is not None and not isinstance(options, framegraph.CompileOptions):
        raise error(f"takes a framegraph.CompileOptions or None, got {show_value(options)}", field="options")
    if not (isinstance(timestamps, bool) or type(timestamps) is str and timestamps == "frame"):
        raise error(f"takes True, 'frame' or False, got {show_value(timestamps)}", field="timestamps")
    if on_compile is not None and not callable(on_compile):
        raise error(f"takes a function of the plan or None, got {show_value(on_compile)}", field="on_compile")
    expect_name(name)
    plan_cache_size = expect_int(plan_cache_size, "plan_cache_size", 1, sys.maxsize)
    if not isinstance(plan_cache, (bool, PlanCache)):
        raise error(f"takes True, False or a PlanCache, got {show_value(plan_cache)}", field="plan_cache")
    if not (isinstance(replay, bool) or type(replay) is str and replay == "all"):
        raise error(f"takes False, True or 'all', got {show_value(replay)}", field="replay")
    return frames_in_flight, plan_cache_size


REPLAY_SETS = 4          # programs per frame slot that keep their recordings (see FrameSlot)


class ReplaySet:
    """The replay command buffers one program records into in one frame slot (FrameSlot.replay_set)."""
    __slots__ = ("slot", "buffers", "valid", "used")

    def __init__(self, slot: "FrameSlot") -> None:
        self.slot = slot
        self.buffers: dict[tuple, Any] = {}      # (family, the program's name for it) -> command buffer
        self.valid = True                        # False once the slot gave its buffers to another set
        self.used = -1                           # the last frame its program ran in

    def buffer(self, family: int, key: Hashable):
        cmd = self.buffers.get((family, key))
        if cmd is None:
            cmd = self.buffers[(family, key)] = self.slot.replay_buffer(family)
        return cmd


class FrameSlot:
    """Per-frame-in-flight objects: command pools (one per queue family; recording is on one
    thread -- with this binding, recording on several threads, one pool each, measured 2-5x slower:
    benchmarks/threaded_recording.py) with their command buffers, events, descriptor pools, the
    timestamp query pool.

    Two pools per family: `pools` (TRANSIENT, reset wholesale when the slot comes round: recordings
    made every frame) and `replay_pools` (never reset wholesale: each command buffer keeps its
    recording until it is recorded again, see recorder.Program.record_replay). The replay buffers
    go out in ReplaySets, one per program (a plan in this slot), for the slot's REPLAY_SETS most
    recently run programs: frames of a few shapes taking turns in the slot each keep their own
    recordings. `recorded` maps a replay command buffer to the key of what it holds; None is
    "nothing valid"."""

    def __init__(self, ctx, owner: Owner, index: int, *, push_descriptors: bool, allocator: Allocator) -> None:
        self.ctx = ctx
        self.owner = owner
        self.index = index
        self.pools: dict[int, Any] = {}
        self.buffers: dict[int, list] = {}
        self.replay_pools: dict[int, Any] = {}
        self.replay_sets: dict[int, ReplaySet] = {}     # program serial -> its buffers
        self.spare: dict[int, list] = {}                # family -> replay buffers of sets given up
        self.replay_buffers = 0                         # allocated so far (names them)
        self.recorded: dict[Any, Any] = {}
        self.events: dict[tuple, Any] = {}
        self.frame = -1                      # the frame recorded here last
        self.values: dict[str, int] = {}     # stream -> timeline value that frame ends at
        self.timer = GpuTimer(ctx, owner, f"frame{index}")
        self.arena = None if push_descriptors else DescriptorArena(ctx, owner, f"frame{index}")
        self.staging = StagingRing(allocator, f"frame{index}")

    def command_buffer(self, family: int, k: int):
        """The family's k-th buffer of the TRANSIENT pool (recorded each frame, replay off)."""
        pool = self._pool(self.pools, family, vk.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT, "")
        buffers = self.buffers.setdefault(family, [])
        while len(buffers) <= k:
            (cmd,) = self.ctx.allocate_command_buffers(pool, 1, name=f"frame{self.index}.family{family}.cmd{len(buffers)}")
            buffers.append(self.owner.adopt("VkCommandBuffer", cmd))
        return buffers[k]

    def replay_set(self, program: int, frame: int) -> "ReplaySet":
        """The replay buffers of program `program` (its serial) in this slot: its own set while it is
        among the slot's REPLAY_SETS most recently run programs. A new program past that takes the
        least recently run one's buffers (that set turns invalid; its program asks again when it next
        runs). The slot's previous frame has finished, so none of them is pending."""
        sets = self.replay_sets
        found = sets.get(program)
        if found is None:
            if len(sets) >= REPLAY_SETS:
                old = sets.pop(min(sets, key=lambda k: sets[k].used))
                old.valid = False
                for (family, _), cmd in old.buffers.items():
                    self.spare.setdefault(family, []).append(cmd)
            found = sets[program] = ReplaySet(self)
        found.used = frame
        return found

    def replay_buffer(self, family: int):
        """A command buffer of the family's replay pool: one a given-up set left, or a new one.
        (vkBeginCommandBuffer resets it implicitly: the pool has RESET_COMMAND_BUFFER.)"""
        spare = self.spare.get(family)
        if spare:
            return spare.pop()
        pool = self._pool(self.replay_pools, family, vk.VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT, ".replay")
        (cmd,) = self.ctx.allocate_command_buffers(
            pool, 1, name=f"frame{self.index}.replay.family{family}.cmd{self.replay_buffers}")
        self.replay_buffers += 1
        return self.owner.adopt("VkCommandBuffer", cmd)

    def _pool(self, pools, family, flags, kind):
        pool = pools.get(family)
        if pool is None:
            pool = pools[family] = self.owner.create("VkCommandPool", vk.VkCommandPoolCreateInfo(
                flags=flags, queueFamilyIndex=family), name=f"frame{self.index}{kind}.pool.family{family}")
        return pool

    def event(self, key: tuple):
        event = self.events.get(key)
        if event is None:
            event = self.events[key] = self.owner.create(
                "VkEvent", vk.VkEventCreateInfo(flags=EVENT_CREATE_DEVICE_ONLY),
                name=f"frame{self.index}.submit{key[0]}.{key[1]}")
        return event

    def reset(self) -> None:
        for pool in self.pools.values():
            check(lib.vkResetCommandPool(self.ctx.device, pool, 0))
        if self.arena is not None:
            self.arena.reset()
        self.staging.reset()

    def abandon(self) -> None:
        """A frame failed here before reaching the GPU (nothing of this slot is pending): every
        command buffer back to the initial state, recordings forgotten, staging and queries free."""
        self.reset()
        for pool in self.replay_pools.values():
            check(lib.vkResetCommandPool(self.ctx.device, pool, 0))
        self.recorded.clear()
        self.timer.abandon()


class _Compiled:
    __slots__ = ("plan", "programs")

    def __init__(self, plan) -> None:
        self.plan = plan
        self.programs: dict[int, Program] = {}


class Renderer:
    """Runs frames: `renderer.render(build)` with `build(fg, frame)` declaring the frame each time.

    `build` gets a FrameGraph and a FrameInfo whose `output` is the target's image, and returns the
    output's final handle. The renderer takes the plan from its PlanCache (it compiles only when
    the frame's structure changed), allocates or finds the frame's resources, records every submit
    of the plan and submits them.
    """

    def __init__(self, ctx, target=None, *, strategy: str = "batched", frames_in_flight: int = 2,
                 options: framegraph.CompileOptions | None = None, timestamps: bool | str = True,
                 push_descriptors: bool | None = None, on_compile: Callable | None = None,
                 name: str = "frame", plan_cache_size: int = 16, device=None,
                 plan_cache: PlanCache | bool = True, replay: bool | str = False, labels: bool = True,
                 profile=None) -> None:
        """`device` overrides the device's own queue layout (a DeviceProfile, a built-in name or a
        dict), as `framegraph.compile(device=...)` and `PlanCache` take it (`profile=` is its old
        name: deprecated). Streams it puts on queues the context lacks run on a queue of the same
        family: that is how single-queue devices still execute multi-queue plans (semaphores and all).

        `plan_cache`: True keeps a PlanCache(plan_cache_size) of this renderer's own, a PlanCache is
        used as given (shared, or to read its counters), False compiles every frame (measurements).

        `timestamps`: True times each pass and each command buffer, "frame" only the command buffers
        (start to end, barriers included: last_gpu_frame_ms), False nothing.

        `labels`: a debug-utils label around each pass's commands (what RenderDoc and Nsight show as
        the pass); False records none (two calls fewer per pass).

        `replay`: False records every command of every frame. True re-submits what a frame slot
        recorded before for passes whose callback is `static(fn, key=...)` (recorder.static) while
        the plan, the resource objects each run of commands touches (a resize or re-allocation
        makes new ones), the timestamp pool, pipeline reloads, the static keys and
        `recording_epoch` (bump it: invalidate_recordings()) are unchanged (each slot keeps the
        recordings of its REPLAY_SETS most recently run plans); other passes are recorded alone,
        every frame. "all": every pass replays unless
        its callback is `dynamic(fn)` or it wrote host data while recording (upload(),
        update_buffer(): from then on it is recorded every frame). Runs that touch the swapchain
        image keep one recording per image (recorder.Program._pick_variant). Needs push
        descriptors (descriptor sets from the per-frame arena do not outlive the frame); without
        them `replay` is off and `replay_off_reason` says why."""
        # Checked before anything is created: a bad argument fails here, naming it, and leaks nothing.
        frames_in_flight, plan_cache_size = _check_arguments(
            target=target, strategy=strategy, frames_in_flight=frames_in_flight, options=options,
            timestamps=timestamps, on_compile=on_compile, name=name, plan_cache_size=plan_cache_size,
            plan_cache=plan_cache, replay=replay)
        self.ctx = ctx
        self.name = name
        self.strategy = strategy
        self.options = options
        self.frames_in_flight = frames_in_flight
        self.on_compile = on_compile
        if profile is not None:
            if device is not None:
                raise TypeError("Renderer: give device= only (profile= is its deprecated name)")
            warnings.warn("Renderer(profile=...) is deprecated: pass device=..., as framegraph.compile and "
                          "PlanCache take it", DeprecationWarning, stacklevel=2)
            device = profile
        self.profile = device_profile(ctx) if device is None else framegraph.resolve_profile(device)
        self._shared_queues = device is not None
        self.owner = Owner(ctx)
        self.allocator = Allocator(ctx)
        self.resources = ResourceCache(ctx, self.allocator, frames_in_flight=frames_in_flight)
        self.pipelines = Pipelines(ctx, push_descriptors=push_descriptors)
        self.replay: str | None = {False: None, True: "marked", "all": "all"}[replay]
        self.labels = bool(labels)
        self.replay_off_reason = None
        if self.replay is not None and not self.pipelines.push_descriptors:
            self.replay, self.replay_off_reason = None, "no push descriptors"
        self.recording_epoch = 0
        self.last_recorded = 0          # command buffers recorded by the latest frame (replayed: not)
        self.slots = [FrameSlot(ctx, self.owner, i, push_descriptors=self.pipelines.push_descriptors,
                                allocator=self.allocator) for i in range(frames_in_flight)]
        for slot in self.slots:
            slot.timer.enabled = slot.timer.enabled and bool(timestamps)
            slot.timer.per_pass = timestamps is True
        self._timelines: dict[str, Any] = {}
        self._wait_infos: dict[tuple, tuple] = {}
        self._base: dict[str, int] = {}
        self._queues: dict[str, StreamQueue] = {}
        self.plan_cache = PlanCache(plan_cache_size) if plan_cache is True else (
            None if plan_cache is False else plan_cache)
        self._plans: OrderedDict = OrderedDict()    # id(plan) -> _Compiled, LRU; holds the plan
        self._declared: dict = {}       # render(redeclare=False): (slot, extent, ...) -> (fg, output, compiled)
        self._plan_cache_size = plan_cache_size
        self.frame = 0
        self.compiles = 0
        self.last_plan = None
        self.last_gpu_times_ms: dict[str, float] = {}
        # The latest finished frame: (start, end) ns per command buffer (one time base across queues
        # where the device has one, e.g. NVIDIA), and max(end) - min(start) in ms.
        self.last_gpu_spans_ns: list[tuple[float, float]] = []
        self.last_gpu_frame_ms: float | None = None
        self._start = time.perf_counter()
        self._closed = False
        self.target = target
        if target is not None:
            target.attach(self)

    # -- compile --------------------------------------------------------------------------
    def compile(self, fg) -> _Compiled:
        """This frame's plan (for a FrameGraph, or a frozen Graph) and the Vulkan structs built for
        it. The plan cache keys by structure, not callbacks or imported objects, so a re-declared
        frame is neither compiled nor frozen; a plan's Programs (barrier and submit structs) are
        kept with it by identity and only re-bound to each frame's resources."""
        cache = self.plan_cache
        # The device's (size, alignment, memoryTypeBits) for each resource the compiler places. Part of
        # the cache key (as its function and device, see ResourceCache.plan_cache_key): a plan placed
        # with one device's numbers is never handed to a renderer on another device sharing the cache.
        requirements = self.resources.requirements
        if cache is None:
            graph = fg.graph() if isinstance(fg, FrameGraph) else fg
            plan = framegraph.compile(graph, strategy=self.strategy, device=self.profile, options=self.options,
                                      memory_requirements=requirements)
        else:
            # framegraph.compile looked up here, each call: tests and scripts/diag_split.py patch it.
            plan = cache.get_or_compile(fg, strategy=self.strategy, options=self.options, device=self.profile,
                                        compiler=framegraph.compile, memory_requirements=requirements)
        compiled = self._plans.get(id(plan))
        if compiled is not None:
            self._plans.move_to_end(id(plan))
            return compiled
        if cache is None or not cache.last_hit:
            self.compiles += 1
            if self.on_compile is not None:
                self.on_compile(plan)
        compiled = _Compiled(plan)
        if cache is not None:               # uncached plans never come back: keep nothing
            self._plans[id(plan)] = compiled
            while len(self._plans) > self._plan_cache_size:
                self._plans.popitem(last=False)
        return compiled

    def memory_requirements(self, graph=None):
        """Deprecated: the requirements function is `renderer.resources.requirements`."""
        warnings.warn("Renderer.memory_requirements() is deprecated: the compiler takes the function "
                      "renderer.resources.requirements", DeprecationWarning, stacklevel=2)
        return self.resources.requirements

    def _stream_queue(self, stream: str, slot: dict) -> StreamQueue:
        q = self._queues.get(stream)
        if q is None:
            match = next((q for q in self.ctx.queues.values()
                          if q.family == slot["family"] and q.index == slot.get("index", 0)), None)
            if match is None and self._shared_queues:
                match = next((q for q in self.ctx.queues.values() if q.family == slot["family"]), None)
            if match is None:
                raise RuntimeError(f"the plan runs stream {stream!r} on family {slot['family']} queue "
                                   f"{slot.get('index', 0)}, which this context did not create")
            bits = self.ctx.queue_families[match.family].timestamp_valid_bits
            q = self._queues[stream] = StreamQueue(match.handle, match.family, match.index, bits)
            timeline = self.owner.create("VkSemaphore", vk.VkSemaphoreCreateInfo(
                pNext=vk.VkSemaphoreTypeCreateInfo(semaphoreType=vk.VK_SEMAPHORE_TYPE_TIMELINE, initialValue=0)),
                name=f"timeline.{stream}")
            self._timelines[stream] = timeline
            self._base[stream] = 0
        return q

    # -- frames ---------------------------------------------------------------------------
    def _retire(self, slot: FrameSlot) -> None:
        """Wait for the slot's previous frame, then hand its timings out and its objects back."""
        if slot.frame < 0:
            return
        self._wait_values(slot.values)
        times = slot.timer.collect()
        if times:
            self.last_gpu_times_ms = times
        spans = slot.timer.last_spans_ns
        if spans:
            self.last_gpu_spans_ns = spans
            self.last_gpu_frame_ms = (max(e for _, e in spans) - min(s for s, _ in spans)) / 1e6
        slot.reset()
        slot.frame = -1

    def _wait_values(self, values: dict[str, int]) -> None:
        if not values:
            return
        streams = tuple(values)
        # One wait info per set of streams, its values patched: a struct costs ~15 µs to build.
        entry = self._wait_infos.get(streams)
        if entry is None:
            semaphores = ffi.new("VkSemaphore[]", [self._timelines[s] for s in streams])
            array = ffi.new("uint64_t[]", len(streams))
            info = ffi.new("VkSemaphoreWaitInfo*", {"sType": vk.VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                                    "semaphoreCount": len(streams), "pSemaphores": semaphores,
                                                    "pValues": array})
            entry = self._wait_infos[streams] = (info, array, semaphores)
        info, array, _ = entry
        for i, s in enumerate(streams):
            array[i] = values[s]
        result = vk.lib.vkWaitSemaphores(self.ctx.device, info, WAIT_TIMEOUT_NS)
        if result != vk.VK_SUCCESS:
            raise vk.exception_codes[result]

    def wait_frame(self, index: int) -> None:
        """Block until frame `index` has finished on the GPU."""
        for slot in self.slots:
            if slot.frame == index:
                self._wait_values(slot.values)

    def wait(self) -> None:
        """Block until every submitted frame has finished; timings of the latest are then in
        last_gpu_times_ms."""
        for slot in sorted(self.slots, key=lambda s: s.frame):
            self._retire(slot)

    def invalidate_recordings(self) -> None:
        """Record every command (and declare every frame) again at the next frames (e.g. after a
        pipeline reload, or when a build function's declaration changed)."""
        self.recording_epoch += 1
        self._declared.clear()

    def render(self, build: Callable, *, redeclare: bool = True, prepare: Callable | None = None) -> FrameInfo:
        """Declare (build), compile (cached), resolve, record (or replay) and submit one frame.

        `redeclare=False`: the caller vouches that `build` would declare this frame exactly as it
        declared the last frame of this slot with the same extent, format and swapchain image —
        structure, callbacks and imported objects (per-frame data lives in buffers the caller
        updates). The frame graph declared then is used again: no build() call, no cache lookup.
        Resources are still resolved every frame (imports, lifetimes).

        `prepare(frame)`: called once the target has begun the frame (`frame.extent` and the
        swapchain image are this frame's: a window may just have been resized), before the frame is
        declared or its resources resolved -- where per-frame data goes into FrameData."""
        if self._closed:
            raise RuntimeError("renderer is closed")
        index = self.frame
        slot = self.slots[index % self.frames_in_flight]
        self._retire(slot)
        # Every frame up to index - frames_in_flight has finished: their resources may go.
        self.resources.collect(index - self.frames_in_flight)

        frame = FrameInfo(index=index, slot=slot.index, time=time.perf_counter() - self._start)
        began = False
        program = None
        try:
            if self.target is not None:
                began = True
                self.target.begin_frame(frame)
            if prepare is not None:
                prepare(frame)
            key = None if redeclare else (slot.index, frame.extent, frame.format, frame.image_index, build,
                                          self.recording_epoch, getattr(self.target, "recreations", 0))
            declared = None if key is None else self._declared.get(key)
            if declared is not None:
                fg, frame.output, compiled = declared
                if self.target is not None:
                    self.target.reuse_graph(fg, frame)
            else:
                fg = FrameGraph(self.name)
                if self.target is not None:
                    frame.output = self.target.declare(fg, frame)
                result = build(fg, frame)
                if self.target is not None:
                    self.target.end_graph(fg, frame, result)
                _check_imports(fg.imports, self)
                compiled = self.compile(fg)
                if key is not None:
                    if len(self._declared) >= 8 * self.frames_in_flight:
                        self._declared.clear()     # extents or swapchains came and went: start again
                    self._declared[key] = (fg, frame.output, compiled)
            plan = self.last_plan = compiled.plan

            resolved = self.resources.resolve(plan, imports=fg.imports, slot=slot.index,
                                              frame=index)
            program = compiled.programs.get(slot.index)
            if program is None:
                queues = {s: self._stream_queue(s, q) for s, q in plan.queues.items()}
                program = compiled.programs[slot.index] = Program(
                    self.ctx, plan, slot=slot, resolved=resolved, timelines=self._timelines, queues=queues,
                    debug=self.ctx.debug, replay=self.replay is not None, labels=self.labels)
            else:
                program.rebind(resolved)
            program.submitted = 0
            acquire = present = None
            if self.target is not None:
                acquire, present = self.target.semaphores(frame)
            if (program.acquire_waits or program.present_queue is not None) and (acquire is None or present is None):
                raise framegraph.FrameGraphError("the plan waits on a swapchain acquire, but the target has no swapchain")
            if acquire is not None and not (program.acquire_waits and program.present_queue is not None):
                raise framegraph.FrameGraphError("the frame never uses the swapchain image it acquired")
            program.set_values(self._base, acquire=acquire, present=present)

            slot.timer.prepare(program.query_layout(slot.timer))
            if self.replay is None:
                program.record(self, frame, resolved, fg.callbacks, slot.timer)
                self.last_recorded = len(program.submits)
            else:
                self.last_recorded = program.record_replay(self, frame, resolved, fg.callbacks, slot.timer,
                                                           self.replay, self.recording_epoch)
            with _InterruptsDeferred():
                program.submit()
                self._finish_frame(slot, frame, plan, program)
        except BaseException:
            if program is not None and slot.frame == frame.index:
                raise                   # the frame is complete (a present reported a failure)
            if program is not None and program.submitted:
                # Part of the frame is on the GPU and waits on (or is waited on by) the rest: submit the
                # rest, finish the frame, then let the exception go on.
                program.submit()
                self._finish_frame(slot, frame, plan, program)
                raise
            # Nothing of this frame reached the GPU: every command buffer of the slot goes back to the
            # initial state and its queries are never waited for; the target gives back what it
            # acquired (a window consumes the acquire semaphore).
            slot.abandon()
            if began:
                self.target.abort_frame(frame)
            raise
        return frame

    def _finish_frame(self, slot: FrameSlot, frame: FrameInfo, plan, program) -> None:
        ends = program.stream_ends
        if ends is None:                 # each stream's last signal value in the plan, once per program
            ends = program.stream_ends = {}
            for submit in plan.submits:
                ends[submit.queue] = max(ends.get(submit.queue, 0), submit.signal_value)
        for stream, last in ends.items():
            self._base[stream] += last
        slot.values = {stream: self._base[stream] for stream in ends}
        slot.frame = frame.index
        self.frame += 1
        if self.target is not None:
            self.target.end_frame(frame, program.present_queue)

    # -- teardown -------------------------------------------------------------------------
    def close(self) -> None:
        """Wait for the GPU, then destroy everything this renderer made, newest first."""
        if self._closed:
            return
        self._closed = True
        if not self.ctx.destroyed:
            self.ctx.wait_idle()
            self.wait()
        self._plans.clear()
        if self.target is not None:
            self.target.close()
        self.resources.close()
        self.allocator.close()
        self.pipelines.close()
        self.owner.close()

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- data in and out, shaders (thin: the logic is in data.py and pipelines.py) ----------------
    def create_buffer(self, name: str, *, data=None, size: int | None = None, state: str = "general",
                      uses=()):
        """A buffer that keeps its contents across frames, filled with `data`; `buffer.use(fg)`
        imports it into a frame. Its usage comes from the first frame's accesses (and `uses`)."""
        from .data import create_buffer
        return create_buffer(self, name, data=data, size=size, state=state, uses=uses)

    def create_frame_data(self, name: str, *, size: int | None = None, data=None, uses=()):
        """Host data that changes every frame (uniforms, lights): one mapped buffer per frame slot,
        `set(data)` before render(), `use(fg, frame)` in build(); no copy, no barrier, and the frame
        can be declared once and replayed (see data.FrameData)."""
        from .data import create_frame_data
        return create_frame_data(self, name, data=data, size=size, uses=uses)

    def create_image(self, name: str, *, format, extent, data=None, mips: int = 1, layers: int = 1,
                     state: str = "any_shader_read_sampled", uses=()):
        """A 2D image that keeps its contents across frames (mip 0 filled with `data`)."""
        from .data import create_image
        return create_image(self, name, format=format, extent=extent, data=data, mips=mips, layers=layers,
                            state=state, uses=uses)

    def upload(self, fg, name, data, *, queue: str = "graphics"):
        """This frame's `data` in a buffer (a new transient `name`, or a buffer handle); returns the
        written handle for later passes to read."""
        from .data import upload
        return upload(fg, name, data, queue=queue)

    def readback(self, fg, handle, **kw):
        """A future for the contents of `handle` at this point of the frame being declared;
        `.result()` waits for that frame (see data.readback)."""
        from .data import readback
        return readback(self, fg, handle, **kw)

    def add_shader_path(self, *folders) -> None:
        """Search these folders for shaders before the others (built-ins stay visible)."""
        for folder in reversed(folders):
            self.pipelines.library.add_path(folder)

    def reload_shaders(self) -> list:
        """Rebuild the shaders whose files changed and their pipelines; returns their names."""
        from .pipelines import reload_shaders
        return reload_shaders(self)

    def watch_shaders(self, enabled: bool = True) -> None:
        """Poll shader files once per frame and rebuild pipelines when one changes."""
        from .pipelines import watch_shaders
        watch_shaders(self, enabled)
