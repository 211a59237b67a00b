"""Recording a compiled plan: its barriers, events and semaphores exactly as the plan says, and each
pass's callback given a PassContext. The backend adds no synchronization of its own.

Vulkan structs cost ~15 µs each to build in this binding, so every dependency, event array and
submit info is built once per (plan, frame slot) as a `Program` and reused each frame; what
changes between frames (resource handles after a re-allocation, semaphore values, swapchain
semaphores) is patched in place.

Replay (Renderer(replay=...)): a submit's commands are split into segments, each its own primary
command buffer in the submit's list — runs of barriers and replayable passes, and each pass that must
be recorded every frame alone. A segment recorded earlier in this frame slot is submitted again
(recorded without ONE_TIME_SUBMIT) while its key — plan, the resource objects it touches (the very
objects: a re-allocated resource is a new one), the timestamp pools made, the passes' `static(key=...)`
keys, the pipeline reloads and the renderer's epoch — is unchanged. Each plan keeps its own command
buffers in a slot (frames.ReplaySet), for the slot's few most recent plans. Command buffers of one
submission execute in order as one stream, so barriers, events and semaphores are exactly the
plan's whether a frame replays or records.
"""
from __future__ import annotations

import operator
from typing import Any, Callable, Hashable, NamedTuple

import vulkan as vk
from vulkan import ffi, lib

from framegraph.errors import FrameGraphError, show_value
from framegraph.graph import Handle
from framegraph.plan import BarrierCmd, PassCmd, ResetEventCmd, SetEventCmd, WaitEventsCmd
from framegraph.vk import Access, Format, Stage

from . import resources as _resources
from .data import as_bytes
from .pipelines import Pipeline, check_declared_access
from .resources import PhysicalBuffer, PhysicalImage, warn_once

_GRAPHICS, _COMPUTE = vk.VK_PIPELINE_BIND_POINT_GRAPHICS, vk.VK_PIPELINE_BIND_POINT_COMPUTE

IGNORED = vk.VK_QUEUE_FAMILY_IGNORED
STORE_OP_NONE = 1000301000          # VK_ATTACHMENT_STORE_OP_NONE (core in 1.3)

_COLOR_BITS = Access.COLOR_ATTACHMENT_READ | Access.COLOR_ATTACHMENT_WRITE
_DEPTH_BITS = Access.DEPTH_STENCIL_ATTACHMENT_READ | Access.DEPTH_STENCIL_ATTACHMENT_WRITE
_WRITE_BITS = Access.COLOR_ATTACHMENT_WRITE | Access.DEPTH_STENCIL_ATTACHMENT_WRITE
_SHADER_STAGE_TO_PIPELINE = {vk.VK_SHADER_STAGE_VERTEX_BIT: Stage.VERTEX_SHADER,
                             vk.VK_SHADER_STAGE_FRAGMENT_BIT: Stage.FRAGMENT_SHADER,
                             vk.VK_SHADER_STAGE_COMPUTE_BIT: Stage.COMPUTE_SHADER,
                             vk.VK_SHADER_STAGE_GEOMETRY_BIT: Stage.GEOMETRY_SHADER}
_SAMPLED = (vk.VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER)
_IMAGE_DESCRIPTORS = (*_SAMPLED, vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE)
_DESCRIPTOR_NEEDS = {   # descriptor type -> (access bits one of which the pass must declare, words for errors)
    vk.VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE: (Access.SHADER_SAMPLED_READ, "a sampled image", "*_shader_read_sampled"),
    vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER: (Access.SHADER_SAMPLED_READ, "a sampled image",
                                                   "*_shader_read_sampled"),
    vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE: (Access.SHADER_STORAGE_READ | Access.SHADER_STORAGE_WRITE,
                                          "a storage image", "*_shader_{read,write}_storage"),
    vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER: (Access.UNIFORM_READ, "a uniform buffer", "*_shader_read_uniform"),
    vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER: (Access.SHADER_STORAGE_READ | Access.SHADER_STORAGE_WRITE,
                                           "a storage buffer", "*_shader_{read,write}_storage"),
}

_OP_BARRIER, _OP_SET, _OP_WAIT, _OP_RESET, _OP_PASS = range(5)
_serial = [0]
_SWAPCHAIN_VARIANTS = 8       # recordings kept per swapchain-touching run (images per swapchain, or more)


class Static:
    """An execute callback whose commands depend only on the plan, the pass's resources and `key`:
    with replay on, its recording is reused while those are unchanged. Per-frame inputs reach the GPU
    as data (buffers the frame writes), not as re-recorded commands."""
    __slots__ = ("fn", "key")

    def __init__(self, fn: Callable, key: Hashable = None) -> None:
        self.fn = fn
        self.key = key

    def __call__(self, ctx):
        return self.fn(ctx)


class Dynamic:
    """An execute callback recorded every frame, even under `replay="all"` (it records per-frame
    values: push constants from the frame's time, a changing draw count...)."""
    __slots__ = ("fn",)

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def __call__(self, ctx):
        return self.fn(ctx)


def static(fn: Callable | None = None, *, key: Hashable = None):
    """`p.execute(static(fn))`, `p.execute(static(fn, key=(count,)))` or `@static`: see Static."""
    if fn is None:
        return lambda f: Static(f, key)
    return Static(fn, key)


def dynamic(fn: Callable) -> Dynamic:
    """`p.execute(dynamic(fn))`: see Dynamic."""
    return Dynamic(fn)


class _Segment:
    """A run of one submit's commands recorded into one command buffer (see the module's docstring)."""
    __slots__ = ("submit", "ops", "dynamic", "first", "last", "cmd", "base_key", "resources",
                 "passes", "position", "swapchain", "variants")

    def __init__(self, submit, ops: list, dynamic: bool) -> None:
        self.submit = submit
        self.ops = ops
        self.dynamic = dynamic
        self.first = self.last = False
        self.cmd = self.base_key = None    # its command buffer (this frame's variant), its name in the set
        self.position = 0              # its index in the submit's command buffer list
        self.swapchain = None          # the swapchain resource it touches, if any
        self.variants: dict = {}       # swapchain image handle -> command buffer
        names: dict[str, None] = {}
        self.passes = []
        for op in ops:
            if op[0] == _OP_PASS:
                self.passes.append(op[1].name)
                names.update(dict.fromkeys(op[1].by_resource))
            elif op[0] != _OP_RESET:
                names.update(dict.fromkeys(op[-1]))
        self.resources = tuple(names)


def _queue(q):
    return IGNORED if q is None else q


class Attachment:
    __slots__ = ("resource", "mips", "layers", "layout", "discard", "writes", "depth")

    def __init__(self, access, depth: bool) -> None:
        self.resource = access.resource
        self.mips = access.mips
        self.layers = access.layers
        self.layout = int(access.layout)
        self.discard = access.discard
        self.writes = bool(access.access & _WRITE_BITS)
        self.depth = depth


class PassInfo:
    """What a pass's accesses say about recording it, derived once per plan."""

    def __init__(self, plan_pass) -> None:
        self.name = plan_pass.name
        self.queue = plan_pass.queue
        self.accesses = plan_pass.accesses
        self.colors = [Attachment(a, False) for a in plan_pass.accesses if a.layout is not None and a.access & _COLOR_BITS]
        depth = [Attachment(a, True) for a in plan_pass.accesses if a.layout is not None and a.access & _DEPTH_BITS]
        if len(depth) > 1:
            raise FrameGraphError("more than one depth attachment range", pass_name=self.name)
        self.depth = depth[0] if depth else None
        self.by_resource: dict[str, list] = {}
        for a in plan_pass.accesses:
            self.by_resource.setdefault(a.resource, []).append(a)


class _ReplayKeys(NamedTuple):
    """Program._replay_keys' answer and what it depended on."""
    policy: Any
    host_data: int               # len(host_data_passes) then (the set only grows)
    callbacks: dict              # a copy of the frame's callbacks
    keys: dict                   # replayable pass -> its static key (Static keys re-read in place)
    dynamic: frozenset           # the passes recorded every frame
    statics: list                # the passes whose callback is a Static


class _Steady(NamedTuple):
    """What a frame whose runs were all valid after record_replay was recorded with."""
    resolved: dict
    common: tuple
    keys: dict
    recordings: list             # (command buffer, the key of the recording in it)
    static_keys: list


class Program:
    """One plan's Vulkan structs for one frame slot."""

    def __init__(self, ctx, plan, *, slot, resolved: dict, timelines: dict, queues: dict, debug, label_prefix="",
                 replay: bool = False, labels: bool = True):
        _serial[0] += 1
        self.serial = _serial[0]
        self.replay = replay
        self.labels = labels            # a debug label around each pass (with debug utils)
        self.ctx = ctx
        self.plan = plan
        self.slot = slot
        self.debug = debug
        self.passes = {p.name: PassInfo(p) for p in plan.passes}
        self.bound: dict[str, Any] = {}
        self.patches: dict[str, list] = {}
        self.keep: list = []                    # structs whose arrays the programs point into
        self.memo: dict = {}                    # per-frame structs built on first use (rendering infos...)
        self.max_groups = tuple(ctx.properties.limits.maxComputeWorkGroupCount)   # checked at each dispatch
        # One PassContext per pass, reset for each recording: building one costs more than the
        # vkCmd* calls of a small pass. They hold bind() results taken from `memo`: cleared with it.
        self.contexts: dict[str, PassContext] = {}
        self.pipeline_memo: dict = {}           # PassContext.compute/graphics_pipeline: key -> (reloads, Pipeline)
        self.push_set = None                    # vkCmdPushDescriptorSetKHR, once a PassContext looked it up
        self.generation = _resources.generation()
        self.bound_names = self.bound_handles = None      # rebind's view of `bound`, from its first call
        self.submits: list[_SubmitProgram] = []
        counters: dict[int, int] = {}
        for index, submit in enumerate(plan.submits):
            family = plan.queues[submit.queue]["family"]
            k = counters.get(family, 0)
            counters[family] = k + 1
            self.submits.append(_SubmitProgram(self, index, submit, family, resolved, timelines, queues[submit.queue]))
            if not replay:
                self.submits[-1].set_command_buffers([slot.command_buffer(family, k)])
        self.submit_array = ffi.new("VkSubmitInfo2[]", [s.info for s in self.submits])
        self.submitted = 0                       # submit groups handed to the driver this frame
        # Replay: the segments of the current layout, the passes that turned out to record host data,
        # and the query layout (fixed per plan so replayed command buffers write the same queries).
        self.segments: list[_Segment] = []
        self.layout_key = None
        self.host_data_passes: set[str] = set()      # only grows: its size tells whether it changed
        self.last_resolved: dict | None = None        # see rebind
        self.stream_ends: dict | None = None          # Renderer._finish_frame's, per plan
        self._replay_memo: _ReplayKeys | None = None  # see _replay_keys
        self._steady: _Steady | None = None           # see record_replay
        self.replay_set = None                        # this program's command buffers in the slot (_layout)
        # Lavapipe skips a pipeline barrier that is the first or the last command of a command buffer:
        # it counts on the end of each command buffer to wait for its work, which it does not (it only
        # flushes, and waits only where a semaphore or fence says so). So on lavapipe every command
        # buffer starts with a state-only command (vkCmdSetDeviceMask(1): no access, no
        # synchronization), and so does the end of a replay segment that another follows in its
        # submit: the barriers then sit between commands, where lavapipe executes them.
        self.pad_barriers = ctx.lavapipe
        self.timer_layout = None
        self.swapchains = {r.name for r in plan.resources if r.swapchain}
        # Consecutive submits to one queue go in one vkQueueSubmit2 call (order is kept).
        self.groups: list[tuple[Any, int, int]] = []
        for i, s in enumerate(self.submits):
            if self.groups and self.groups[-1][0] is s.queue_handle:
                q, start, n = self.groups[-1]
                self.groups[-1] = (q, start, n + 1)
            else:
                self.groups.append((s.queue_handle, i, 1))
        self.present_queue = next((s.queue_handle for s in self.submits if s.submit.present), None)
        self.acquire_waits = [(s, k) for s in self.submits for k in s.acquire_slots]
        # Every resource a pass uses, barrier or not: a new handle for any of them must clear `memo`
        # (descriptor writes are memoized by binding names, see PassContext.bind).
        for p in plan.passes:
            for a in p.accesses:
                if a.resource not in self.bound:
                    self.bound[a.resource] = resolved[a.resource].handle
                    self.patches.setdefault(a.resource, [])

    # -- building ------------------------------------------------------------------------
    def dependency(self, dep, resolved):
        images = []
        for b in dep.images:
            res = resolved[b.resource]
            images.append(vk.VkImageMemoryBarrier2(
                srcStageMask=int(b.src_stages), srcAccessMask=int(b.src_access),
                dstStageMask=int(b.dst_stages), dstAccessMask=int(b.dst_access),
                oldLayout=int(b.old_layout), newLayout=int(b.new_layout),
                srcQueueFamilyIndex=_queue(b.src_queue), dstQueueFamilyIndex=_queue(b.dst_queue),
                image=res.handle, subresourceRange=vk.VkImageSubresourceRange(
                    aspectMask=res.aspect, baseMipLevel=b.mips[0], levelCount=b.mips[1],
                    baseArrayLayer=b.layers[0], layerCount=b.layers[1])))
        buffers = []
        for b in dep.buffers:
            res = resolved[b.resource]
            buffers.append(vk.VkBufferMemoryBarrier2(
                srcStageMask=int(b.src_stages), srcAccessMask=int(b.src_access),
                dstStageMask=int(b.dst_stages), dstAccessMask=int(b.dst_access),
                srcQueueFamilyIndex=_queue(b.src_queue), dstQueueFamilyIndex=_queue(b.dst_queue),
                buffer=res.handle, offset=b.range[0], size=b.range[1]))
        memory = [vk.VkMemoryBarrier2(srcStageMask=int(m.src_stages), srcAccessMask=int(m.src_access),
                                      dstStageMask=int(m.dst_stages), dstAccessMask=int(m.dst_access))
                  for m in dep.memory]
        info = vk.VkDependencyInfo(pMemoryBarriers=memory or None, pBufferMemoryBarriers=buffers or None,
                                   pImageMemoryBarriers=images or None)
        for field, barriers, attr in (("pImageMemoryBarriers", dep.images, "image"),
                                      ("pBufferMemoryBarriers", dep.buffers, "buffer")):
            if barriers:
                array = getattr(info, field)
                for i, b in enumerate(barriers):
                    self.patches.setdefault(b.resource, []).append((array, i, attr))
                    self.bound[b.resource] = resolved[b.resource].handle
        self.keep.append(info)
        return info

    def query_layout(self, timer) -> tuple:
        if self.timer_layout is None:
            self.timer_layout = timer.layout(
                [(c.pass_name, s.timestamps) for s in self.submits for c in s.submit.commands
                 if isinstance(c, PassCmd)], [s.timestamps for s in self.submits])
        return self.timer_layout

    # -- per frame -----------------------------------------------------------------------
    def rebind(self, resolved: dict) -> int:
        """Point the structs at this frame's resources; returns how many fields changed."""
        if resolved is self.last_resolved and self.generation == _resources.generation():
            return 0        # the resource cache handed out the very dict of last time: nothing moved
        self.last_resolved = resolved
        changed = 0
        moved = False
        names = self.bound_names
        if names is None:
            names = self.bound_names = tuple(self.bound)
        # Most frames move nothing: one comparison of the handle lists, field by field only if not.
        handles = [resolved[name].handle for name in names]
        if handles != self.bound_handles:
            for name, handle in zip(names, handles):
                if handle != self.bound[name]:
                    moved = True
                    for array, i, attr in self.patches[name]:
                        setattr(array[i], attr, handle)
                        changed += 1
                    self.bound[name] = handle
            self.bound_handles = handles
        if moved or self.generation != _resources.generation():
            # Memo entries are keyed by handle values; once objects were destroyed a value may name
            # a new object, so start again.
            self.memo.clear()
            self.contexts.clear()
            self.pipeline_memo.clear()
            self.generation = _resources.generation()
        return changed

    def set_values(self, base: dict[str, int], acquire=None, present=None) -> None:
        for s in self.submits:
            for array, k, stream, value in s.value_slots:
                array[k].value = base[stream] + value
        if acquire is not None:
            for s, k in self.acquire_waits:
                s.waits_array[k].semaphore = acquire
        if present is not None:
            for s in self.submits:
                if s.present_slot is not None:
                    s.signals_array[s.present_slot].semaphore = present

    def record(self, renderer, frame, resolved: dict, callbacks: dict, timer) -> None:
        """Record every submit's commands into its one command buffer (replay off)."""
        begin = self.ctx_begin_info(True)
        for index, s in enumerate(self.submits):
            cmd = s.cmd
            self._begin(cmd, begin)
            self._record_ops(renderer, frame, cmd, s.ops, resolved, callbacks, timer,
                             timer.begin_commands(cmd, index), True)
            end_commands(cmd)

    def _record_ops(self, renderer, frame, cmd, ops, resolved, callbacks, timer, span, last) -> list:
        """Returns the passes that recorded host data (an upload): their commands cannot be replayed.

        Each pass: its debug label, its timestamps and its callback given the pass's PassContext.
        Written out in this loop, with the per-frame lookups hoisted: at ~2.5 µs of Vulkan calls per
        small pass, every Python call and dict built per pass shows (#18)."""
        host_data = []
        begin_label, end_label, raw = self._labels()
        timed = bool(timer.pass_query)        # per-pass timestamps in this frame's query layout
        contexts = self.contexts
        bound = None                          # the pipeline bound in `cmd` (see PassContext._bound)
        for op in ops:
            code = op[0]
            if code == _OP_BARRIER:
                lib.vkCmdPipelineBarrier2(cmd, op[1])
            elif code == _OP_PASS:
                info = op[1]
                name = info.name
                if begin_label is not None:
                    begin_label(cmd, op[2 + raw])       # op: (code, info, label struct, pointer to it)
                query = timer.begin(cmd, name) if timed else None
                callback = callbacks.get(name)
                if callback is None:
                    # Its barriers still run, but a pass the user forgot to give a body is otherwise silent.
                    warn_once(("no execute", name), f"pass {name!r} has no execute callback, so it records "
                              "nothing (its barriers still run); give it one with p.execute(fn)", stacklevel=5)
                else:
                    pc = contexts.get(name)
                    if pc is None:
                        pc = contexts[name] = PassContext(renderer, self, info, cmd, resolved, frame)
                    else:                       # PassContext._reset, written out
                        pc._cmd = cmd
                        pc.frame = frame
                        pc._resolved = resolved
                        pc._pipeline = None
                        pc._rendering = pc._host_data = pc._raw = False
                        pc._nbind = 0
                    pc._bound = bound
                    try:
                        callback(pc)
                    finally:
                        if pc._rendering:
                            pc._finish()
                        bound = None if pc._raw else pc._bound
                    if pc._host_data:
                        host_data.append(name)
                if query is not None:
                    timer.end(cmd, query)
                if end_label is not None:
                    end_label(cmd)
            elif code == _OP_SET:
                lib.vkCmdSetEvent2(cmd, op[1], op[2])
            elif code == _OP_WAIT:
                lib.vkCmdWaitEvents2(cmd, op[1], op[2], op[3])
            else:
                lib.vkCmdResetEvent2(cmd, op[1], op[2])
        if span is not None and last:
            timer.end(cmd, span)
        return host_data

    def _begin(self, cmd, info) -> None:
        """vkBeginCommandBuffer, then on lavapipe the state-only command that keeps a barrier from
        being the command buffer's first (see pad_barriers)."""
        begin_commands(cmd, info)
        if self.pad_barriers:
            lib.vkCmdSetDeviceMask(cmd, 1)

    def ctx_begin_info(self, one_time: bool):
        info = self.memo.get(("begin", one_time))
        if info is None:
            info = self.memo[("begin", one_time)] = vk.VkCommandBufferBeginInfo(
                flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT if one_time else 0)
        return info

    def _labels(self):
        """Begin/end label functions and which form of the label they take (raw pointers take its
        address: the binding's wrappers cost ~5 µs a call); Nones without debug utils or labels."""
        labels = self.memo.get("labels")
        if labels is None:
            labels = (None, None, 0)
            if self.labels and getattr(self.debug, "enabled", False):
                begin = self.ctx.instance_function("vkCmdBeginDebugUtilsLabelEXT", "PFN_vkCmdBeginDebugUtilsLabelEXT")
                end = self.ctx.instance_function("vkCmdEndDebugUtilsLabelEXT", "PFN_vkCmdEndDebugUtilsLabelEXT")
                labels = (begin, end, 1) if begin is not None and end is not None else (
                    self.debug.begin_label_struct, self.debug.end_label, 0)
            self.memo["labels"] = labels
        return labels

    # -- replay --------------------------------------------------------------------------
    def _replayable(self, name: str, callback, policy) -> tuple[bool, Hashable]:
        if callback is None:
            return True, None
        if isinstance(callback, Static):
            return name not in self.host_data_passes, callback.key
        if isinstance(callback, Dynamic) or policy != "all" or name in self.host_data_passes:
            return False, None
        return True, None

    def _replay_keys(self, callbacks: dict, policy) -> tuple[dict, frozenset]:
        """{replayable pass: its static key} and the passes recorded every frame. The same callbacks
        as last frame (a frame declared once, or callbacks kept by the caller) give the same answer:
        only the static keys are read again (a Static's key may be changed in place)."""
        memo = self._replay_memo
        if (memo is not None and memo.policy == policy and memo.host_data == len(self.host_data_passes)
                and _resources.same_values(memo.callbacks, callbacks)):
            keys = memo.keys
            for name in memo.statics:
                keys[name] = callbacks[name].key
            return keys, memo.dynamic
        keys, dynamic, statics = {}, [], []
        for name in self.passes:
            callback = callbacks.get(name)
            ok, key = self._replayable(name, callback, policy)
            if ok:
                keys[name] = key
                if isinstance(callback, Static):
                    statics.append(name)
            else:
                dynamic.append(name)
        dynamic = frozenset(dynamic)
        self._replay_memo = _ReplayKeys(policy, len(self.host_data_passes), dict(callbacks), keys, dynamic, statics)
        return keys, dynamic

    def _layout(self, dynamic: frozenset, frame: int) -> None:
        """Split each submit into segments around the passes recorded every frame, and give each
        segment a command buffer of this program's replay set in the slot."""
        if self.replay_set is None or not self.replay_set.valid:
            self.replay_set = self.slot.replay_set(self.serial, frame)
        replay_set = self.replay_set
        self._steady = None            # its command buffers may be others now
        self.segments = []
        counters: dict[int, int] = {}
        for s in self.submits:
            mine: list[_Segment] = []
            run: list = []
            for op in s.ops:
                if op[0] == _OP_PASS and op[1].name in dynamic:
                    if run:
                        mine.append(_Segment(s, run, False))
                        run = []
                    mine.append(_Segment(s, [op], True))
                else:
                    run.append(op)
            if run or not mine:
                mine.append(_Segment(s, run, False))
            mine[0].first = mine[-1].last = True
            for position, seg in enumerate(mine):
                k = counters.get(s.family, 0)
                counters[s.family] = k + 1
                seg.base_key = k
                seg.cmd = replay_set.buffer(s.family, k)
                seg.position = position
                if not seg.dynamic:
                    seg.swapchain = next((n for n in seg.resources if n in self.swapchains), None)
            s.set_command_buffers([seg.cmd for seg in mine])
            self.segments += mine
        self.submit_array = ffi.new("VkSubmitInfo2[]", [s.info for s in self.submits])
        self.layout_key = dynamic

    def record_replay(self, renderer, frame, resolved: dict, callbacks: dict, timer, policy, epoch) -> int:
        """Record the segments whose recording in this slot is stale; returns how many were recorded."""
        keys, dynamic = self._replay_keys(callbacks, policy)
        replay_set = self.replay_set
        if (replay_set is None or not replay_set.valid
                or (dynamic is not self.layout_key and dynamic != self.layout_key)):
            self._layout(dynamic, frame.index)   # first run, new dynamic passes, or its buffers went to another plan
        else:
            replay_set.used = frame.index
        pipelines = renderer.pipelines
        if pipelines.watch:
            pipelines.poll()     # watch_shaders polls at a frame's first pipeline lookup: a replay makes none
        slot = self.slot
        recorded = slot.recorded
        # Reloaded pipelines (Pipelines.reloads) and a regrown query pool replace handles the
        # recordings hold: counted, as a handle value may come back for a new object. Resources are
        # keyed by object (below) for the same reason: an object never comes back (the key keeps
        # it), so freeing other objects (a readback's staging, resources of another size) leaves
        # these recordings valid.
        common = (self.serial, epoch, timer.pools_made, getattr(pipelines, "reloads", 0))
        steady = self._steady
        statics = self._replay_memo.statics
        if (steady is not None and steady.resolved is resolved and steady.common == common and steady.keys is keys
                and (not statics or steady.static_keys == [keys[name] for name in statics])):
            # The very resources, callbacks and recordings of last frame (see below): nothing to record.
            for cmd, key in steady.recordings:
                if recorded.get(cmd) is not key:
                    break
            else:
                return 0
        count = 0
        for index, seg in enumerate(self.segments):
            if seg.swapchain is not None:
                self._pick_variant(seg, resolved[seg.swapchain].handle)
            if seg.dynamic:
                key = None
            else:
                key = (common, index, tuple([resolved[n] for n in seg.resources]),
                       tuple([keys[p] for p in seg.passes]))
                if recorded.get(seg.cmd) == key:
                    continue
            cmd = seg.cmd
            recorded[cmd] = None                    # until its recording has ended
            self._begin(cmd, self.ctx_begin_info(seg.dynamic))
            submit_index = seg.submit.index
            span = timer.begin_commands(cmd, submit_index) if seg.first else timer.command_query[submit_index]
            host_data = self._record_ops(renderer, frame, cmd, seg.ops, resolved, callbacks, timer, span, seg.last)
            if self.pad_barriers and not seg.last:
                lib.vkCmdSetDeviceMask(cmd, 1)
            end_commands(cmd)
            count += 1
            if host_data and not seg.dynamic:
                # It wrote this frame's data to staging while recording: never replay it (the next
                # frame lays the submit out again with this pass on its own).
                self.host_data_passes.update(host_data)
                continue
            recorded[cmd] = key
        # Next frame may skip building the keys above when it brings the same resolved dict (the
        # resource cache hands out one per plan and slot while nothing moved), the same `common`
        # and the same keys object with the same Static keys (read into it in place), and each
        # command buffer still holds this program's recording (another plan of this slot may have
        # recorded over it). Not with passes recorded every frame or swapchain variants.
        finals = [(seg.cmd, recorded.get(seg.cmd)) for seg in self.segments]
        replay_only = (not dynamic and all(k is not None for _, k in finals)
                       and all(seg.swapchain is None for seg in self.segments))
        self._steady = (_Steady(resolved, common, keys, finals, [keys[name] for name in statics]) if replay_only
                        else None)
        return count

    def _pick_variant(self, seg: _Segment, image) -> None:
        """A run that touches the swapchain image keeps one recording per image (a window cycles
        through a few), each in its own command buffer, so steady frames replay whichever image
        they acquired; the submit's list points at this frame's."""
        cmd = seg.variants.get(image)
        if cmd is None:
            if len(seg.variants) < _SWAPCHAIN_VARIANTS:
                cmd = self.replay_set.buffer(seg.submit.family, ("swapchain", seg.base_key, len(seg.variants)))
            else:                  # a recreated swapchain: reuse the oldest (its frame has finished)
                cmd = seg.variants.pop(next(iter(seg.variants)))
            seg.variants[image] = cmd
        seg.cmd = cmd
        seg.submit.cmd_infos[seg.position].commandBuffer = seg.cmd

    def submit(self) -> None:
        """Submit the frame; `submitted` counts the vkQueueSubmit2 calls that went through, so a
        failure part-way can finish the frame (resume) rather than leave waits that never signal."""
        groups = self.groups
        while self.submitted < len(groups):
            queue, start, count = groups[self.submitted]
            queue_submit(queue, count, self.submit_array + start)
            self.submitted += 1


class _SubmitProgram:
    def __init__(self, program: Program, index: int, submit, family: int, resolved, timelines, queue):
        self.submit = submit
        self.index = index
        self.family = family
        self.cmd = None
        self.cmd_infos = None
        self.queue_handle = queue.handle
        self.timestamps = queue.timestamp_bits
        self.ops: list[tuple] = []
        events: dict[str, Any] = {}
        for c in submit.commands:
            if isinstance(c, BarrierCmd):
                dep = program.dependency(c.dependency, resolved)
                self.ops.append((_OP_BARRIER, ffi.addressof(dep), _names(c.dependency)))
            elif isinstance(c, PassCmd):
                info = program.passes[c.pass_name]
                label = program.debug.label_struct(c.pass_name)
                program.keep.append(label)
                self.ops.append((_OP_PASS, info, label, ffi.addressof(label)))
            elif isinstance(c, SetEventCmd):
                event = events.setdefault(c.event, program.slot.event((index, c.event)))
                dep = program.dependency(c.dependency, resolved)
                self.ops.append((_OP_SET, event, ffi.addressof(dep), _names(c.dependency)))
            elif isinstance(c, WaitEventsCmd):
                handles = [events.setdefault(e, program.slot.event((index, e))) for e in c.events]
                deps = [program.dependency(d, resolved) for d in c.dependencies]
                # The copies in this array share the barrier arrays of `deps` (kept), so patches reach both.
                event_array = ffi.new("VkEvent[]", handles)
                dep_array = ffi.new("VkDependencyInfo[]", deps)
                program.keep += [event_array, dep_array]
                self.ops.append((_OP_WAIT, len(handles), event_array, dep_array,
                                 [n for d in c.dependencies for n in _names(d)]))
            elif isinstance(c, ResetEventCmd):
                event = events.setdefault(c.event, program.slot.event((index, c.event)))
                self.ops.append((_OP_RESET, event, int(c.stages)))
            else:
                raise FrameGraphError(f"unknown plan command {c!r}")
        waits = []
        self.value_slots: list[tuple] = []
        self.acquire_slots: list[int] = []
        for w in submit.waits:
            if w.acquire is not None:
                self.acquire_slots.append(len(waits))
                waits.append(vk.VkSemaphoreSubmitInfo(stageMask=int(w.stages)))
            else:
                self.value_slots.append(("waits", len(waits), w.queue, w.value))
                waits.append(vk.VkSemaphoreSubmitInfo(semaphore=timelines[w.queue], value=w.value,
                                                      stageMask=int(w.stages)))
        signals = [vk.VkSemaphoreSubmitInfo(semaphore=timelines[submit.queue], value=submit.signal_value,
                                            stageMask=int(submit.signal_stages))]
        self.value_slots.append(("signals", 0, submit.queue, submit.signal_value))
        self.present_slot = None
        if submit.present:
            self.present_slot = len(signals)
            signals.append(vk.VkSemaphoreSubmitInfo(stageMask=vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT))
        self.info = vk.VkSubmitInfo2(pWaitSemaphoreInfos=waits or None, pSignalSemaphoreInfos=signals)
        program.keep.append(self.info)
        self.waits_array = self.info.pWaitSemaphoreInfos
        self.signals_array = self.info.pSignalSemaphoreInfos
        self.value_slots = [(self.waits_array if which == "waits" else self.signals_array, k, stream, value)
                            for which, k, stream, value in self.value_slots]


    def set_command_buffers(self, cmds: list) -> None:
        """The command buffers this submit executes, in order (one, or its replay segments)."""
        self.cmd = cmds[0]
        self.cmd_infos = ffi.new("VkCommandBufferSubmitInfo[]", len(cmds))
        for i, cmd in enumerate(cmds):
            self.cmd_infos[i].sType = vk.VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO
            self.cmd_infos[i].commandBuffer = cmd
        self.info.commandBufferInfoCount = len(cmds)
        self.info.pCommandBufferInfos = self.cmd_infos


class _Rendering:
    """PassContext.rendering's block: a class rather than @contextmanager, whose generator and
    wrapper cost more than the three commands it records."""
    __slots__ = ("ctx", "clear", "clear_depth")

    def __init__(self, ctx: "PassContext", clear, clear_depth) -> None:
        self.ctx = ctx
        self.clear = clear
        self.clear_depth = clear_depth

    def __enter__(self) -> "PassContext":
        self.ctx._begin_rendering(self.clear, self.clear_depth)
        return self.ctx

    def __exit__(self, *exc) -> bool:
        ctx = self.ctx
        ctx._rendering = False
        lib.vkCmdEndRendering(ctx._cmd)
        return False


def _push_descriptor_set(ctx, pipelines):
    """vkCmdPushDescriptorSetKHR as a raw cffi function pointer: the binding's wrapper from
    vkGetDeviceProcAddr costs ~7 µs a call in argument conversion (measured), the raw one ~1 µs."""
    fn = ctx.device_function("vkCmdPushDescriptorSetKHR", "PFN_vkCmdPushDescriptorSetKHR")
    return fn if fn is not None else pipelines.cmd_push_descriptor_set


def check(result: int) -> None:
    """A raw `lib` call's VkResult, raised as the binding's exception (the binding's wrappers check
    for us, but convert every argument again: ~2 µs a call)."""
    if result != vk.VK_SUCCESS:
        raise vk.exception_codes[result]


def begin_commands(cmd, info) -> None:
    """vkBeginCommandBuffer through `lib` (`info`: a VkCommandBufferBeginInfo the caller keeps)."""
    check(lib.vkBeginCommandBuffer(cmd, ffi.addressof(info)))


def end_commands(cmd) -> None:
    check(lib.vkEndCommandBuffer(cmd))


def queue_submit(queue, count: int, infos) -> None:
    """vkQueueSubmit2 without a fence, raising the binding's exception for a failure: called
    through `lib`, since the binding's wrapper converts every argument again (~15 µs a call)."""
    result = lib.vkQueueSubmit2(queue, count, infos, ffi.NULL)
    if result != vk.VK_SUCCESS:             # check(), written out: this is every frame's submit
        raise vk.exception_codes[result]


def _names(dep) -> list[str]:
    return [b.resource for b in dep.images] + [b.resource for b in dep.buffers]


def _within(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    """(base, count) `inner` lies in (base, count) `outer`."""
    return outer[0] <= inner[0] and inner[0] + inner[1] <= outer[0] + outer[1]


def _name(resource) -> str:
    """The one place execute callbacks' resource arguments are normalised: a name, or a Handle
    of it (any version: the pass's declarations say which version it reads or writes)."""
    return resource.name if isinstance(resource, Handle) else resource


class PassContext:
    """What a pass callback records with: the command buffer, the pass's resources resolved by name,
    its declared accesses, and helpers that derive Vulkan state from those declarations. Wherever
    a resource name is taken, a Handle of that resource is too (`bindings={0: albedo}`).

        def execute(ctx):
            with ctx.rendering(clear=(0, 0, 0, 1)):
                ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "post.frag"),
                         bindings={0: "scene"}, push=[1.0, 0.5])
    """

    # One per pass per Program, reset before each recording of the pass (Program.contexts); slots
    # make that reset and every attribute read a little cheaper (and refuse attributes of the user's).
    __slots__ = ("renderer", "vulkan", "name", "_cmd", "frame", "info", "accesses", "_program", "_resolved",
                 "_pipelines", "_push_set", "_pipeline", "_bound", "_raw", "_rendering", "_host_data", "_binds",
                 "_nbind", "_pushed", "_index_bound", "_max_groups", "_sets_bound")

    def __init__(self, renderer, program: Program, info: PassInfo, cmd, resolved: dict, frame) -> None:
        self.renderer = renderer
        self.vulkan = renderer.ctx
        self.name = info.name
        self.info = info
        self.accesses = info.accesses
        self._program = program
        self._pipelines = pipelines = renderer.pipelines
        if pipelines.push_descriptors and program.push_set is None:
            program.push_set = _push_descriptor_set(renderer.ctx, pipelines)
        self._push_set = program.push_set if pipelines.push_descriptors else None
        # This pass's push-descriptor binds of its last recording, in call order: (a copy of the
        # bindings, pipeline, the push's arguments, memo entry), so that a frame binding what the
        # last one did skips building the memo key (see bind).
        self._binds: list = []
        self._max_groups = program.max_groups     # maxComputeWorkGroupCount, checked at each dispatch
        self._reset(cmd, resolved, frame)

    def _reset(self, cmd, resolved: dict, frame) -> None:
        """Ready for a recording of the pass into `cmd`."""
        self._cmd = cmd
        self.frame = frame
        self._resolved = resolved
        self._pipeline: Pipeline | None = None   # the pipeline this pass bound last (draws use it)
        # The pipeline bound in the command buffer when the pass began (the previous pass's, unless
        # a pass used the raw command buffer): binding it again is skipped. Vulkan keeps a binding
        # for the rest of the command buffer, across barriers and rendering instances.
        self._bound: Pipeline | None = None
        self._raw = False                        # the callback took `cmd`: what it bound is unknown
        self._rendering = False
        self._host_data = False              # upload()/update_buffer(): this frame's data in commands
        self._nbind = 0
        self._pushed = None                  # the pipeline layout set 0 was last bound with in this pass
        self._index_bound = False            # bind_index_buffer() ran in this pass
        self._sets_bound = None              # {set number: pipeline layout} that kit.DescriptorSets bound

    @property
    def cmd(self):
        """The VkCommandBuffer, for commands of your own. After this, the next pass binds its
        pipeline again (what was recorded here is unknown to the context)."""
        self._raw = True
        return self._cmd

    # -- resources -----------------------------------------------------------------------
    def _declared(self, name: str):
        accesses = self.info.by_resource.get(_name(name))
        if not accesses:
            raise FrameGraphError("the pass uses a resource it did not declare", pass_name=self.name,
                                  resource=name)
        return accesses

    def image(self, name: str | Handle) -> PhysicalImage:
        return self._of_kind(name, True, "image()")

    def buffer(self, name: str | Handle) -> PhysicalBuffer:
        return self._of_kind(name, False, "buffer()")

    def _of_kind(self, name, image: bool, call: str):
        """The resolved object of declared resource `name`, which must be an image (or a buffer)."""
        name = _name(name)
        self._declared(name)
        res = self._resolved[name]
        if isinstance(res, PhysicalImage) != image:
            raise FrameGraphError(f"{call} takes {'an image' if image else 'a buffer'}; this is "
                                  f"{'a buffer' if image else 'an image'}", pass_name=self.name, resource=name)
        return res

    def view(self, name: str | Handle, *, mips=None, layers=None) -> Any:
        """A view of the declared range of `name` (the first declared access's, unless given:
        `(base, count)` or one index, within what one of the pass's accesses of it declares)."""
        name = _name(name)
        declared = self._declared(name)
        res = self._resolved[name]
        if not isinstance(res, PhysicalImage):
            raise FrameGraphError("view() is for images; this is a buffer", pass_name=self.name, resource=name)
        if mips is None and layers is None:
            return res.view(declared[0].mips, declared[0].layers)
        mips = declared[0].mips if mips is None else self._sub_range(name, "mips", mips)
        layers = declared[0].layers if layers is None else self._sub_range(name, "layers", layers)
        if not any(_within(mips, a.mips) and _within(layers, a.layers) for a in declared):
            field = "layers" if any(_within(mips, a.mips) for a in declared) else "mips"
            raise FrameGraphError(f"view of mips {mips} and layers {layers} (base, count): no access of the pass "
                                  "declares them (the barriers cover what it declares)", pass_name=self.name,
                                  resource=name, field=field)
        return res.view(mips, layers)

    def _sub_range(self, name: str, field: str, value) -> tuple[int, int]:
        try:
            base, count = (value, 1) if isinstance(value, int) else value
            base, count = operator.index(base), operator.index(count)
        except (TypeError, ValueError):
            raise FrameGraphError(f"{field}={show_value(value)}: (base, count) or one index", pass_name=self.name,
                                  resource=name, field=field) from None
        if base < 0 or count < 1:
            raise FrameGraphError(f"{field}={show_value(value)}: a base from 0 and a count from 1", pass_name=self.name,
                                  resource=name, field=field)
        return base, count

    def extent(self, name: str | Handle | None = None) -> tuple[int, int]:
        """The extent of `name` at its declared base mip (default: the first attachment)."""
        name = _name(name)
        if name is None:
            att = (self.info.colors or [self.info.depth])[0]
            if att is None:
                raise FrameGraphError("the pass has no attachment; name a resource", pass_name=self.name)
            name, mip = att.resource, att.mips[0]
        else:
            image = self._of_kind(name, True, "extent()")
            return image.mip_extent(self._declared(name)[0].mips[0])
        return self._resolved[name].mip_extent(mip)

    # -- dynamic rendering ---------------------------------------------------------------
    @property
    def color_formats(self) -> tuple[int, ...]:
        return tuple(self._resolved[a.resource].format for a in self.info.colors)

    @property
    def depth_format(self) -> int:
        return self._resolved[self.info.depth.resource].format if self.info.depth else 0

    def _attachment_info(self, att: Attachment, clear):
        view = self._resolved[att.resource].view((att.mips[0], 1), att.layers)
        if att.discard:
            load = vk.VK_ATTACHMENT_LOAD_OP_CLEAR if clear is not None else vk.VK_ATTACHMENT_LOAD_OP_DONT_CARE
        else:
            if clear is not None:
                raise FrameGraphError("a clear value for an attachment whose contents the pass loads: declare "
                                      "the write with discard=True to clear it", pass_name=self.name,
                                      resource=att.resource)
            load = vk.VK_ATTACHMENT_LOAD_OP_LOAD
        store = vk.VK_ATTACHMENT_STORE_OP_STORE if att.writes else STORE_OP_NONE
        if clear is None:
            value = None
        elif att.depth:
            try:
                depth, stencil = clear if isinstance(clear, tuple) else (clear, 0)
                value = vk.VkClearValue(depthStencil=vk.VkClearDepthStencilValue(depth=float(depth), stencil=stencil))
            except (TypeError, ValueError, OverflowError):
                raise FrameGraphError(f"clear_depth {show_value(clear)}: a depth from 0 to 1, or (depth, stencil) "
                                      "with a stencil from 0 to 255", pass_name=self.name, resource=att.resource,
                                      field="clear_depth") from None
        else:
            value = self._clear_colour(att.resource, clear)
        return vk.VkRenderingAttachmentInfo(imageView=view, imageLayout=att.layout, resolveMode=vk.VK_RESOLVE_MODE_NONE,
                                            loadOp=load, storeOp=store, clearValue=value)

    def _clear_colour(self, resource: str, clear):
        """Four numbers, as the attachment's format reads them: integers for UINT and SINT formats
        (their clear value is not float32), floats otherwise."""
        name = Format(self._resolved[resource].format).name
        kind, convert = (("uint32", int) if name.endswith("_UINT") else ("int32", int) if name.endswith("_SINT")
                         else ("float32", float))
        try:
            values = [convert(c) for c in clear]
            if len(values) != 4:
                raise ValueError
            return vk.VkClearValue(color=vk.VkClearColorValue(**{kind: values}))
        except (TypeError, ValueError, OverflowError):
            raise FrameGraphError(f"clear colour {show_value(clear)}: four numbers (r, g, b, a) for {name}",
                                  pass_name=self.name, resource=resource, field="clear") from None

    def rendering(self, clear=None, *, clear_depth=None) -> "_Rendering":
        """`with ctx.rendering(...)`: vkCmdBeginRendering over the pass's declared attachments
        (colors in declaration order, then depth), with viewport and scissor set to the render area;
        vkCmdEndRendering at the end of the block.

        Load ops follow the declarations: a `discard` write clears (when a clear value is given:
        one colour for every discarded colour attachment, or {resource: colour}) or is DONT_CARE;
        everything else loads. Writes store; read-only attachments use STORE_OP_NONE."""
        return _Rendering(self, clear, clear_depth)

    def _begin_rendering(self, clear, clear_depth) -> None:
        if self._rendering:
            raise FrameGraphError("rendering() is already active", pass_name=self.name)
        if not self.info.colors and self.info.depth is None:
            raise FrameGraphError("rendering() needs declared color or depth attachment accesses",
                                  pass_name=self.name)
        if clear is None and clear_depth is None:
            # No clear values: load or DONT_CARE only. The attachments' handles need no place in
            # the key: the memo is cleared whenever a handle of the program's resources moves.
            clears, depth_clear = [None] * len(self.info.colors), None
            key = ("rendering", self.name)
        else:
            clears = []
            if isinstance(clear, dict):
                clear = {_name(k): v for k, v in clear.items()}
                unknown = sorted(set(clear) - {a.resource for a in self.info.colors})
                if unknown:
                    raise FrameGraphError(f"clear values for {unknown}, which are not colour attachments of the pass",
                                          pass_name=self.name, resource=unknown[0], field="clear")
            for att in self.info.colors:
                if isinstance(clear, dict):
                    c = clear.get(att.resource)
                else:
                    c = clear if att.discard else None
                if c is not None:
                    try:
                        c = tuple(c)
                    except TypeError:
                        pass               # not a sequence: _clear_colour says what it takes
                clears.append(c)
            if isinstance(clear_depth, list):
                clear_depth = tuple(clear_depth)
            depth_clear = clear_depth if (self.info.depth is not None and self.info.depth.discard) else None
            if clear_depth is not None and self.info.depth is not None and not self.info.depth.discard:
                depth_clear = clear_depth      # raises below, with the resource named
            key = ("rendering", self.name, tuple(clears), depth_clear)
        entry = self._program.memo.get(key)
        if entry is None:
            colors = [self._attachment_info(a, c) for a, c in zip(self.info.colors, clears)]
            depth = self._attachment_info(self.info.depth, depth_clear) if self.info.depth else None
            atts = self.info.colors + ([self.info.depth] if self.info.depth else [])
            width = min(self._resolved[a.resource].mip_extent(a.mips[0])[0] for a in atts)
            height = min(self._resolved[a.resource].mip_extent(a.mips[0])[1] for a in atts)
            area = vk.VkRect2D(offset=vk.VkOffset2D(x=0, y=0), extent=vk.VkExtent2D(width=width, height=height))
            info = vk.VkRenderingInfo(renderArea=area, layerCount=atts[0].layers[1],
                                      pColorAttachments=colors or None, pDepthAttachment=depth)
            viewport = ffi.new("VkViewport*", {"x": 0.0, "y": 0.0, "width": float(width), "height": float(height),
                                               "minDepth": 0.0, "maxDepth": 1.0})
            scissor = ffi.new("VkRect2D*", {"offset": {"x": 0, "y": 0},
                                            "extent": {"width": width, "height": height}})
            entry = self._program.memo[key] = (info, ffi.addressof(info), viewport, scissor)
        _, info_ptr, viewport, scissor = entry
        lib.vkCmdBeginRendering(self._cmd, info_ptr)
        lib.vkCmdSetViewport(self._cmd, 0, 1, viewport)
        lib.vkCmdSetScissor(self._cmd, 0, 1, scissor)
        self._rendering = True

    # -- pipelines and descriptors -------------------------------------------------------
    def graphics_pipeline(self, vertex: str, fragment: str | None = None, **state) -> Pipeline:
        """A graphics pipeline for this pass's attachment formats (see Pipelines.graphics)."""
        # Memoized as compute_pipeline is, per pass (the formats are its attachments'; handles that
        # move clear the memo, formats with them). Unhashable state: looked up every time.
        pipelines = self._pipelines
        memo = self._program.pipeline_memo
        try:
            key = (self.name, vertex, fragment, *state.items())
            entry = memo.get(key)
        except TypeError:
            key = entry = None
        if entry is not None and entry[0] == pipelines.reloads and not pipelines.watch:
            return entry[1]
        samples = 1
        if self.info.colors:
            samples = self._resolved[self.info.colors[0].resource].samples
        pipeline = pipelines.graphics(vertex, fragment, color_formats=self.color_formats,
                                      depth_format=self.depth_format, samples=samples, pass_name=self.name, **state)
        if key is not None:
            memo[key] = (pipelines.reloads, pipeline)
        return pipeline

    def compute_pipeline(self, shader: str) -> Pipeline:
        # Pipelines.compute is a cache too, but its key and poll cost ~1 µs a pass. Ours holds a
        # pipeline only while no reload replaced it (`reloads`), and steps aside while shaders are
        # watched (compute() polls the files at a frame's first lookup).
        pipelines = self._pipelines
        memo = self._program.pipeline_memo
        entry = memo.get(shader)
        if entry is not None and entry[0] == pipelines.reloads and not pipelines.watch:
            return entry[1]
        pipeline = pipelines.compute(shader, pass_name=self.name)
        memo[shader] = (pipelines.reloads, pipeline)
        return pipeline

    def bind_pipeline(self, pipeline: Pipeline) -> None:
        if pipeline is not self._pipeline:
            if type(pipeline) is not Pipeline:
                raise self._not_a_pipeline(pipeline)
            if pipeline is not self._bound:
                lib.vkCmdBindPipeline(self._cmd, pipeline.bind_point, pipeline.handle)
                self._bound = pipeline
            self._pipeline = pipeline

    def _check_kind(self, binding: int, b, res, name: str) -> None:
        """An image for an image descriptor, a buffer for a buffer one: the other way round, the
        push of the descriptor crashed the driver (a sampled read of a buffer is a texel-buffer
        access the graph allows, but no binding here takes one)."""
        image = isinstance(res, PhysicalImage)
        if image != (b.type in _IMAGE_DESCRIPTORS):
            what = _DESCRIPTOR_NEEDS.get(b.type, (None, f"descriptor type {b.type}"))[1]
            raise FrameGraphError(f"binding {binding} is {what} in the shader, but this is "
                                  f"{'an image' if image else 'a buffer'}", pass_name=self.name, resource=name)

    def _descriptor(self, pipeline: Pipeline, binding: int, value) -> tuple:
        b = pipeline.bindings.get(binding)
        if b is None:
            raise FrameGraphError(f"pipeline {pipeline.name!r} has no binding {binding} in set 0",
                                  pass_name=self.name)
        sampler_kind = "linear"
        if isinstance(value, tuple):
            if len(value) != 2:
                raise FrameGraphError(f"binding {binding}: {show_value(value)}; a tuple is (name or handle, sampler)",
                                      pass_name=self.name, field="bindings")
            value, sampler_kind = value
            if sampler_kind not in ("linear", "nearest", "shadow"):
                raise FrameGraphError(f"binding {binding}: sampler {show_value(sampler_kind)}; 'linear', 'nearest' or "
                                      "'shadow'", pass_name=self.name, resource=_name(value), field="bindings")
        value = _name(value)
        if isinstance(value, (PhysicalImage, PhysicalBuffer)):   # a resource outside the graph
            self._check_kind(binding, b, value, getattr(value, "name", "?"))
            if isinstance(value, PhysicalImage):
                layout = (vk.VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL if b.type in _SAMPLED
                          else vk.VK_IMAGE_LAYOUT_GENERAL)
                sampler = self.renderer.pipelines.sampler(sampler_kind) if b.type == _SAMPLED[1] else None
                return ("image", value.view(), layout, sampler)
            return ("buffer", value.handle, 0, value.size)
        if not isinstance(value, str):
            raise FrameGraphError(f"binding {binding}: {show_value(value)}; give a resource name or handle, (name or "
                                  "handle, sampler) or a Physical* resource", pass_name=self.name, field="bindings")
        needs, what, spelling = _DESCRIPTOR_NEEDS.get(b.type, (None, None, None))
        if needs is None:
            raise FrameGraphError(f"binding {binding}: descriptor type {b.type} is not supported",
                                  pass_name=self.name, resource=value)
        shader_stages = Stage(0)
        for bit, stage in _SHADER_STAGE_TO_PIPELINE.items():
            if b.stages & bit:
                shader_stages |= stage
        declared = self._declared(value)
        matching = [a for a in declared if a.access & needs]
        covered = Stage(0)
        for a in matching:
            covered |= a.stages
        # One access covering every stage the binding is used in; else (a uniform read by the vertex
        # and the fragment shader declared as two reads) the first of those that together cover them.
        candidates = [a for a in matching if a.stages & Stage.ALL_COMMANDS or not shader_stages & ~a.stages]
        if not candidates and matching and not shader_stages & ~covered:
            candidates = matching[:1]
        if candidates:
            # What the pass declares against what the shader can do (readonly/writeonly): here, once
            # per memoized binding, since this is where declaration and shader first meet.
            check_declared_access(pipeline, binding, matching, pass_name=self.name, resource=value)
        for access in candidates:
            res = self._resolved[value]
            self._check_kind(binding, b, res, value)
            if isinstance(res, PhysicalImage):
                sampler = (self.renderer.pipelines.sampler(sampler_kind)
                           if b.type == vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER else None)
                return ("image", res.view(access.mips, access.layers), int(access.layout), sampler)
            offset, size = access.range
            return ("buffer", res.handle, offset, size)
        stages = ", ".join(s.lower() for s in (shader_stages.names() or ["?"]))
        raise FrameGraphError(f"binding {binding} uses it as {what} in {stages}, but the pass declares no "
                              f"matching access ({spelling} at that stage)", pass_name=self.name, resource=value)

    def bind(self, bindings: dict, *, set: int = 0, pipeline: Pipeline | None = None) -> None:
        """Descriptors for set 0 of the bound pipeline: {binding: resource name or Handle | (name or
        handle, "nearest") | PhysicalImage/PhysicalBuffer}. Images get the layout and range their
        declared access has. The declared accesses are checked against the shader's readonly/writeonly
        qualifiers (pipelines.check_declared_access)."""
        if set != 0:
            raise FrameGraphError(f"bind() pushes set 0, the pass's own resources; set {set!r} is for resources "
                                  "that outlive frames: kit.DescriptorSets(renderer).bind(ctx, pipeline, set, ...)",
                                  pass_name=self.name, field="set")
        pipeline = pipeline or self._pipeline
        if pipeline is None:
            raise FrameGraphError("bind() before a pipeline is bound", pass_name=self.name)
        self._pushed = pipeline.layout
        push_set = self._push_set
        if push_set is not None:
            # The n-th bind() of this pass binding what it bound last time (equal bindings, same
            # pipeline) pushes the same writes: the memo below would find them under a key that costs
            # more to build than the push. Only memoized (hashable) bindings are kept, and the
            # contexts go with the memo when resources change (Program.rebind).
            n = self._nbind
            self._nbind = n + 1
            binds = self._binds
            if n < len(binds):
                last = binds[n]
                try:
                    hit = last[1] is pipeline and last[0] == bindings
                except Exception:           # a value whose == is not a bool (an array): no shortcut
                    hit = False
                if hit:
                    push_set(self._cmd, last[2], last[3], 0, last[4], last[5])
                    return
            if not isinstance(bindings, dict):
                raise FrameGraphError(f"bindings={show_value(bindings)}: a dict of binding number to resource",
                                      pass_name=self.name, field="bindings")
            pipelines = self._pipelines
            memo = self._program.memo
            # The same bindings of the same pass resolve to the same writes until the program's
            # resources change (memo is cleared then): skip matching them against the declarations.
            try:
                first = ("bind", self.name, pipeline.handle, tuple(bindings.items()))
                entry = memo.get(first)
            except TypeError:               # an unhashable value: resolve it every time
                first = entry = None
            if entry is None:
                values = {b: self._descriptor(pipeline, b, v) for b, v in bindings.items()}
                key = ("push", pipeline.layout, tuple(sorted(values.items())))
                entry = memo.get(key)
                if entry is None:
                    writes = pipelines.writes(pipeline, values)
                    entry = memo[key] = (writes, ffi.new("VkWriteDescriptorSet[]", writes), len(writes))
                if first is not None:
                    memo[first] = entry
            if first is not None and type(bindings) is dict:
                # (as given, pipeline, the push's arguments, and the entry: its writes own what the array points to)
                kept = (dict(bindings), pipeline, pipeline.bind_point, pipeline.layout, entry[2], entry[1], entry)
                if n < len(binds):
                    binds[n] = kept
                else:
                    binds.append(kept)
            push_set(self._cmd, pipeline.bind_point, pipeline.layout, 0, entry[2], entry[1])
        else:
            pipelines = self._pipelines
            values = {b: self._descriptor(pipeline, b, v) for b, v in bindings.items()}
            arena = self._program.slot.arena
            descriptor_set = arena.allocate(pipeline.set_layout)
            writes = pipelines.writes(pipeline, values)
            for w in writes:
                w.dstSet = descriptor_set
            vk.vkUpdateDescriptorSets(self.vulkan.device, len(writes), writes, 0, None)
            vk.vkCmdBindDescriptorSets(self._cmd, pipeline.bind_point, pipeline.layout, 0, 1, [descriptor_set], 0, None)

    def push_constants(self, data, *, pipeline: Pipeline | None = None) -> None:
        pipeline = pipeline or self._pipeline
        if pipeline is None:
            raise FrameGraphError("push_constants() with no pipeline bound (bind one first, or pass pipeline=)",
                                  pass_name=self.name)
        raw = data if type(data) is bytes else as_bytes(data)
        size = len(raw)
        if size > pipeline.push_size:
            raise FrameGraphError(f"{size} bytes of push constants; pipeline {pipeline.name!r} takes "
                                  f"{pipeline.push_size}", pass_name=self.name)
        if not size or size & 3:
            raise FrameGraphError(f"{size} bytes of push constants: Vulkan takes a positive multiple of 4",
                                  pass_name=self.name, field="push")
        # cffi passes a bytes object to a `void *` as a pointer to its contents (no copy, no
        # from_buffer object); the driver copies push constants at the call.
        lib.vkCmdPushConstants(self._cmd, pipeline.layout, pipeline.push_stages, 0, size, raw)

    def _prepare(self, pipeline, bindings, push) -> None:
        cmd = self._cmd
        if pipeline is not None and pipeline is not self._pipeline:     # bind_pipeline, without the call
            if type(pipeline) is not Pipeline:
                raise self._not_a_pipeline(pipeline)
            if pipeline is not self._bound:
                lib.vkCmdBindPipeline(cmd, pipeline.bind_point, pipeline.handle)
                self._bound = pipeline
            self._pipeline = pipeline
        else:
            pipeline = self._pipeline
            if pipeline is None:
                raise FrameGraphError("no pipeline bound", pass_name=self.name)
        if bindings:
            # bind()'s shortcut, written out (see there): this is every dispatch and draw.
            n = self._nbind
            binds = self._binds
            hit = False
            if n < len(binds):
                last = binds[n]
                try:
                    hit = last[1] is pipeline and last[0] == bindings
                except Exception:
                    pass
            if hit:
                self._nbind = n + 1
                self._pushed = last[3]
                self._push_set(cmd, last[2], last[3], 0, last[4], last[5])
            else:
                self.bind(bindings)
        if push is not None:
            size = len(push) if type(push) is bytes else -1
            if 0 < size <= pipeline.push_size and not size & 3:       # push_constants, without the call
                lib.vkCmdPushConstants(cmd, pipeline.layout, pipeline.push_stages, 0, size, push)
            else:
                self.push_constants(push)

    # -- work ----------------------------------------------------------------------------
    def draw(self, vertex_count: int, instance_count: int = 1, first_vertex: int = 0, *, pipeline=None,
             bindings=None, push=None) -> None:
        self._prepare_draw("draw", pipeline, bindings, push)
        try:
            lib.vkCmdDraw(self._cmd, vertex_count, instance_count, first_vertex, 0)
        except (OverflowError, TypeError) as e:
            raise self._bad_counts("draw", (vertex_count, instance_count, first_vertex), e) from None

    def bind_index_buffer(self, name: str | Handle, *, index_type: str = "uint32") -> None:
        """Bind the declared range of `name` (an index_buffer read of this pass) as the index buffer."""
        name = _name(name)
        for access in self._declared(name):
            if access.access & Access.INDEX_READ:
                types = {"uint32": vk.VK_INDEX_TYPE_UINT32, "uint16": vk.VK_INDEX_TYPE_UINT16}
                if index_type not in types:
                    raise FrameGraphError(f"index_type {show_value(index_type)}: one of {', '.join(types)}",
                                          pass_name=self.name, resource=name, field="index_type")
                lib.vkCmdBindIndexBuffer(self._cmd, self._resolved[name].handle, access.range[0], types[index_type])
                self._index_bound = True
                return
        raise FrameGraphError("the pass declares no index_buffer read of it", pass_name=self.name, resource=name)

    def draw_indexed(self, index_count: int, instance_count: int = 1, first_index: int = 0, vertex_offset: int = 0,
                     first_instance: int = 0, *, index_buffer: str | Handle | None = None, pipeline=None, bindings=None,
                     push=None) -> None:
        """vkCmdDrawIndexed; `index_buffer` binds that resource first (see bind_index_buffer)."""
        self._prepare_draw("draw_indexed", pipeline, bindings, push)
        if index_buffer is not None:
            self.bind_index_buffer(index_buffer)
        if not self._index_bound:
            raise FrameGraphError("draw_indexed() with no index buffer bound in this pass: pass index_buffer= or "
                                  "call bind_index_buffer() first", pass_name=self.name)
        try:
            lib.vkCmdDrawIndexed(self._cmd, index_count, instance_count, first_index, vertex_offset, first_instance)
        except (OverflowError, TypeError) as e:
            raise self._bad_counts("draw_indexed", (index_count, instance_count, first_index, vertex_offset,
                                                    first_instance), e) from None

    def _prepare_draw(self, call: str, pipeline, bindings, push) -> None:
        """A draw's pipeline, bindings and push constants, inside a rendering instance, after one
        expression that checks what the driver would crash on (_check_ready says which)."""
        if not self._rendering:
            raise FrameGraphError(f"{call}() outside `with ctx.rendering()`", pass_name=self.name)
        self._prepare(pipeline, bindings, push)
        p = self._pipeline
        if p.bind_point != _GRAPHICS or (self._pushed is not p.layout and p.set_layout is not None) or p.other_sets:
            self._check_ready(call, _GRAPHICS)

    def dispatch(self, x: int, y: int = 1, z: int = 1, *, pipeline=None, bindings=None, push=None) -> None:
        self._prepare(pipeline, bindings, push)
        self._dispatch("dispatch", (x, y, z), x, y, z)

    def dispatch_threads(self, x: int, y: int = 1, z: int = 1, *, pipeline=None, bindings=None, push=None) -> None:
        """Dispatch enough workgroups to cover x*y*z invocations (local size from the shader)."""
        self._prepare(pipeline, bindings, push)
        lx, ly, lz = self._pipeline.local_size or (1, 1, 1)
        try:
            gx, gy, gz = -(-x // lx), -(-y // ly), -(-z // lz)
        except TypeError as e:
            raise self._bad_counts("dispatch_threads", (x, y, z), e) from None
        self._dispatch("dispatch_threads", (x, y, z), gx, gy, gz)

    def _dispatch(self, call: str, values: tuple, gx, gy, gz) -> None:
        """vkCmdDispatch of (gx, gy, gz) workgroups, after one expression that checks what the driver
        would crash or hang on (_refuse_dispatch says which, when it fails)."""
        p = self._pipeline
        mx, my, mz = self._max_groups
        try:
            ok = (p.bind_point == _COMPUTE and not self._rendering and (self._pushed is p.layout or p.set_layout is None)
                  and not p.other_sets and gx <= mx and gy <= my and gz <= mz)
        except TypeError:
            ok = True                       # not numbers: vkCmdDispatch's conversion below says so
        if not ok:
            self._refuse_dispatch(call, values, (gx, gy, gz))
        try:
            lib.vkCmdDispatch(self._cmd, gx, gy, gz)
        except (OverflowError, TypeError) as e:
            raise self._bad_counts(call, values, e) from None

    def _not_a_pipeline(self, value) -> FrameGraphError:
        return FrameGraphError(f"pipeline={show_value(value)}: give the Pipeline that ctx.compute_pipeline(...) or "
                               "ctx.graphics_pipeline(...) returns", pass_name=self.name, field="pipeline")

    def _check_ready(self, call: str, bind_point: int) -> None:
        """What the command needs that Vulkan does not check for us (the driver crashes instead):
        a pipeline of its kind, outside (draws: inside) a rendering instance, and set 0 bound."""
        pipeline = self._pipeline
        if pipeline.bind_point != bind_point:
            kind = "compute" if bind_point == _COMPUTE else "graphics"
            raise FrameGraphError(f"{call}() needs a {kind} pipeline; {pipeline.name!r} is not one",
                                  pass_name=self.name)
        if bind_point == _COMPUTE and self._rendering:
            raise FrameGraphError(f"{call}() inside `with ctx.rendering()` (dispatches go outside it)",
                                  pass_name=self.name)
        if pipeline.set_layout is not None and self._pushed is not pipeline.layout:
            raise FrameGraphError(f"{call}() before the descriptors of {pipeline.name!r} are bound (bindings=, "
                                  "or ctx.bind() after binding the pipeline)", pass_name=self.name)
        bound = self._sets_bound or {}
        missing = [s for s in pipeline.other_sets if bound.get(s) is not pipeline.layout]
        if missing:
            raise FrameGraphError(f"{call}() before descriptor set {missing[0]} of {pipeline.name!r} is bound in this "
                                  "pass (kit.DescriptorSets(renderer).bind(ctx, pipeline, set, ...))",
                                  pass_name=self.name, field="set")

    def _refuse_dispatch(self, call: str, values: tuple, groups: tuple) -> None:
        """Why a dispatch cannot be recorded (the caller's one-expression check failed): its
        pipeline or state (_check_ready), or workgroup counts past the device's limits (past them
        lavapipe hangs)."""
        limits = self._max_groups
        self._check_ready(call, _COMPUTE)
        for n, most in zip(groups, limits):
            if type(n) is int and n > most:
                raise FrameGraphError(f"{call}({', '.join(show_value(v) for v in values)}): {groups} workgroups, "
                                      f"more than this device's maxComputeWorkGroupCount {limits}",
                                      pass_name=self.name)

    def _bad_counts(self, call: str, values: tuple, error: Exception) -> FrameGraphError:
        """A draw's or dispatch's numbers that the command cannot take (negative, too large, not
        whole numbers), named with the pass (it was the binding's bare OverflowError or TypeError)."""
        shown = ", ".join(show_value(v) for v in values)
        offset = " (vertex_offset: from -2**31 to 2**31 - 1)" if call == "draw_indexed" else ""
        return FrameGraphError(f"{call}({shown}): counts and firsts are whole numbers from 0 to 2**32 - 1{offset}: "
                               f"{error}", pass_name=self.name)

    def copy_image_to_buffer(self, image: str | Handle, buffer: str | Handle, *, mip: int = 0) -> None:
        """Copy the declared layer range of `image` (transfer_read) into `buffer` (transfer_write),
        tightly packed."""
        image, buffer = _name(image), _name(buffer)
        src = self._transfer_access(image, Access.TRANSFER_READ)
        dst = self._transfer_access(buffer, Access.TRANSFER_WRITE)
        img = self._of_kind(image, True, "copy_image_to_buffer()'s source")
        self._of_kind(buffer, False, "copy_image_to_buffer()'s target")
        region = self._program.memo.get(("copy", self.name, image, buffer, mip))
        if region is None:
            mip = self._whole("copy_image_to_buffer", image, "mip", mip)
            base, count = src.mips
            if not base <= mip < base + count:
                raise FrameGraphError(f"copy_image_to_buffer: mip {mip} is outside the declared mips {src.mips} "
                                      f"(base, count)", pass_name=self.name, resource=image, field="mip")
            width, height = img.mip_extent(mip)
            self._byte_range("copy_image_to_buffer", buffer, dst, 0,
                             width * height * src.layers[1] * Format(img.format).texel_size, field=None)
            region = self._program.memo[("copy", self.name, image, buffer, mip)] = vk.VkBufferImageCopy(
                bufferOffset=dst.range[0], imageSubresource=vk.VkImageSubresourceLayers(
                    aspectMask=img.aspect, mipLevel=mip, baseArrayLayer=src.layers[0], layerCount=src.layers[1]),
                imageOffset=vk.VkOffset3D(x=0, y=0, z=0), imageExtent=vk.VkExtent3D(width=width, height=height, depth=1))
        lib.vkCmdCopyImageToBuffer(self._cmd, img.handle, int(src.layout), self._resolved[buffer].handle, 1,
                                   ffi.addressof(region))

    def copy_image(self, src: str | Handle, dst: str | Handle) -> None:
        """Copy the declared range of `src` (transfer_read) to that of `dst` (transfer_write), mip by mip."""
        src, dst = _name(src), _name(dst)
        a = self._transfer_access(src, Access.TRANSFER_READ)
        b = self._transfer_access(dst, Access.TRANSFER_WRITE)
        s_img, d_img = self._of_kind(src, True, "copy_image()"), self._of_kind(dst, True, "copy_image()")
        depth = s_img.aspect != vk.VK_IMAGE_ASPECT_COLOR_BIT or d_img.aspect != vk.VK_IMAGE_ASPECT_COLOR_BIT
        if (a.layers[1] != b.layers[1] or Format(s_img.format).texel_size != Format(d_img.format).texel_size
                or depth and int(s_img.format) != int(d_img.format)):
            raise FrameGraphError(f"copy_image to {dst!r}: {a.layers[1]} layers of {Format(s_img.format).name} into "
                                  f"{b.layers[1]} of {Format(d_img.format).name} (the layer counts and the texel "
                                  "sizes must match; a depth or stencil format, the format itself)",
                                  pass_name=self.name, resource=src)
        regions = []
        for m in range(min(a.mips[1], b.mips[1])):
            width, height = s_img.mip_extent(a.mips[0] + m)
            dw, dh = d_img.mip_extent(b.mips[0] + m)
            if width > dw or height > dh:
                raise FrameGraphError(f"copy_image to {dst!r}: mip {a.mips[0] + m} is {width}x{height}, larger than "
                                      f"its mip {b.mips[0] + m} ({dw}x{dh})", pass_name=self.name, resource=src)
            regions.append(vk.VkImageCopy(
                srcSubresource=vk.VkImageSubresourceLayers(aspectMask=s_img.aspect, mipLevel=a.mips[0] + m,
                                                           baseArrayLayer=a.layers[0], layerCount=a.layers[1]),
                srcOffset=vk.VkOffset3D(x=0, y=0, z=0),
                dstSubresource=vk.VkImageSubresourceLayers(aspectMask=d_img.aspect, mipLevel=b.mips[0] + m,
                                                           baseArrayLayer=b.layers[0], layerCount=b.layers[1]),
                dstOffset=vk.VkOffset3D(x=0, y=0, z=0), extent=vk.VkExtent3D(width=width, height=height, depth=1)))
        vk.vkCmdCopyImage(self._cmd, s_img.handle, int(a.layout), d_img.handle, int(b.layout), len(regions), regions)

    def upload(self, name: str | Handle, data, *, offset: int = 0) -> None:
        """Copy host data into `name` through this frame's staging memory: a buffer (at `offset` within
        its declared range) or the declared base mip and layers of an image (tightly packed texels).
        The pass must declare a transfer_write of it."""
        name = _name(name)
        access = self._transfer_access(name, Access.TRANSFER_WRITE)
        raw = as_bytes(data)
        self._host_data = True
        res = self._resolved[name]
        if isinstance(res, PhysicalBuffer):
            start, size = self._byte_range("upload", name, access, offset, len(raw), field="data")
            if not size:
                return                   # nothing to copy (a copy of 0 bytes is invalid Vulkan)
            staging, at = self._program.slot.staging.allocate(size)
            staging.mapped[at:at + size] = raw
            # ffi.new and lib: a VkBufferCopy through the binding costs ~15 µs, every upload of every frame.
            region = ffi.new("VkBufferCopy *", {"srcOffset": at, "dstOffset": start, "size": size})
            lib.vkCmdCopyBuffer(self._cmd, staging.handle, res.handle, 1, region)
            return
        if offset != 0:
            raise FrameGraphError(f"upload: offset {show_value(offset)} into an image (an image upload fills the "
                                  "declared base mip and layers)", pass_name=self.name, resource=name, field="offset")
        width, height = res.mip_extent(access.mips[0])
        expected = width * height * access.layers[1] * (Format(res.format).texel_size)
        if len(raw) != expected:
            raise FrameGraphError(f"{len(raw)} bytes for a {width}x{height}x{access.layers[1]} upload of "
                                  f"{expected}", pass_name=self.name, resource=name)
        staging, at = self._program.slot.staging.allocate(len(raw))
        staging.mapped[at:at + len(raw)] = raw
        region = vk.VkBufferImageCopy(
            bufferOffset=at, imageSubresource=vk.VkImageSubresourceLayers(
                aspectMask=res.aspect, mipLevel=access.mips[0], baseArrayLayer=access.layers[0],
                layerCount=access.layers[1]),
            imageOffset=vk.VkOffset3D(x=0, y=0, z=0), imageExtent=vk.VkExtent3D(width=width, height=height, depth=1))
        vk.vkCmdCopyBufferToImage(self._cmd, staging.handle, res.handle, int(access.layout), 1, [region])

    def update_buffer(self, buffer: str | Handle, data, offset: int = 0) -> None:
        """vkCmdUpdateBuffer into a buffer the pass declares transfer_write, at `offset` within the
        declared range: up to 64 KiB, offset and size multiples of 4 (Vulkan's rules)."""
        buffer = _name(buffer)
        access = self._transfer_access(buffer, Access.TRANSFER_WRITE)
        raw = as_bytes(data)
        self._host_data = True
        start, size = self._byte_range("update_buffer", buffer, access, offset, len(raw), field="data")
        if not size:
            return
        if start % 4 or size % 4 or size > 65536:
            raise FrameGraphError(f"update_buffer: {size} bytes at byte {start} of the buffer; vkCmdUpdateBuffer "
                                  "takes up to 65536 bytes, offset and size multiples of 4 (upload() takes any)",
                                  pass_name=self.name, resource=buffer, field="data")
        lib.vkCmdUpdateBuffer(self._cmd, self._resolved[buffer].handle, start, size, ffi.from_buffer(raw))

    def copy_buffer(self, src: str | Handle, dst: str | Handle, size: int | None = None) -> None:
        """Copy `size` bytes (default: as many as both declared ranges hold) from the start of the
        declared range of `src` (transfer_read) to that of `dst` (transfer_write)."""
        src, dst = _name(src), _name(dst)
        a = self._transfer_access(src, Access.TRANSFER_READ)
        b = self._transfer_access(dst, Access.TRANSFER_WRITE)
        self._of_kind(src, False, "copy_buffer()")
        self._of_kind(dst, False, "copy_buffer()")
        n = min(a.range[1], b.range[1]) if size is None else size
        self._byte_range("copy_buffer", src, a, 0, n, field="size")
        _, n = self._byte_range("copy_buffer", dst, b, 0, n, field="size")
        if n:
            vk.vkCmdCopyBuffer(self._cmd, self._resolved[src].handle, self._resolved[dst].handle, 1,
                               [vk.VkBufferCopy(srcOffset=a.range[0], dstOffset=b.range[0], size=n)])

    def _whole(self, call: str, name: str, field: str, value) -> int:
        try:
            return operator.index(value)
        except TypeError:
            raise FrameGraphError(f"{call}: {field} must be a whole number, got {show_value(value)}",
                                  pass_name=self.name, resource=name, field=field) from None

    def _byte_range(self, call: str, name: str, access, offset, size, *, field: str | None) -> tuple[int, int]:
        """`size` bytes at `offset` within the declared range of `name` in this pass (the barriers
        cover that range, nothing else): (offset in the buffer, size). `field`: what gave the size."""
        offset, size = self._whole(call, name, "offset", offset), self._whole(call, name, field or "size", size)
        start, length = access.range
        if offset < 0 or size < 0 or offset + size > length:
            raise FrameGraphError(f"{call}: {size} bytes at {offset} are outside the declared range (offset "
                                  f"{start}, {length} bytes)", pass_name=self.name, resource=name,
                                  field="offset" if not 0 <= offset <= length else field)
        return start + offset, size

    def _transfer_access(self, name: str, bit):
        for access in self._declared(name):
            if access.access & bit:
                return access
        raise FrameGraphError(f"the pass declares no {'transfer_read' if bit == Access.TRANSFER_READ else 'transfer_write'}"
                              " access of it", pass_name=self.name, resource=name)

    def _finish(self) -> None:
        if self._rendering:
            self._rendering = False
            lib.vkCmdEndRendering(self._cmd)
