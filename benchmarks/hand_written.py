"""Frames written by hand (#18's `hand_written` baseline): plain code over the `vulkan` binding and
the graph renderer's own pipelines, barriers placed by hand, no frame graph -- what a Python user
would write. Each builds its structs once (barriers, rendering infos, descriptor writes), then
records the whole frame every frame (ONE_TIME_SUBMIT, pool reset) on the graphics queue, one frame
in flight, with a timestamp at each end of the command buffer. They duck-type the Renderer for
framegraph.bench.measure_frames: render(), wait(), last_gpu_frame_ms; read() returns the image.

    chain     two storage buffers ping-ponged, one global memory barrier between dispatches
    deferred  samples/deferred.py's frame: G-buffer, SSAO (+ blur), two shadow cascades projected
              into a mask, lighting, bloom (5 mips down and up), tonemap, FXAA, after the lights'
              compute pass. Static mesh data and the lights' paths are uploaded once; the uniforms
              go to a host-visible buffer written each frame (no copy); SSAO runs on the graphics
              queue.
"""
from __future__ import annotations

import struct

import numpy as np
import vulkan as vk
from vulkan import ffi, lib

from framegraph.backends.vulkan.memory import HOST_UPLOAD

VEC4 = 16
IGNORED = vk.VK_QUEUE_FAMILY_IGNORED
COMPUTE = vk.VK_PIPELINE_STAGE_2_COMPUTE_SHADER_BIT
FRAGMENT = vk.VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT
COLOR_OUT = vk.VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT
DEPTH_TESTS = vk.VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | vk.VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT
COPY = vk.VK_PIPELINE_STAGE_2_COPY_BIT
SAMPLED_READ = vk.VK_ACCESS_2_SHADER_SAMPLED_READ_BIT
STORAGE_WRITE = vk.VK_ACCESS_2_SHADER_STORAGE_WRITE_BIT
COLOR_WRITE = vk.VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT
COLOR_RW = vk.VK_ACCESS_2_COLOR_ATTACHMENT_READ_BIT | COLOR_WRITE
DEPTH_RW = vk.VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT | vk.VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT
UNDEFINED = vk.VK_IMAGE_LAYOUT_UNDEFINED
GENERAL = vk.VK_IMAGE_LAYOUT_GENERAL
READ_ONLY = vk.VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL
COLOR_ATT = vk.VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL
DEPTH_ATT = vk.VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL


def make(workload: str, renderer, *, size, **params):
    """The hand-written peer of `workload` ("chain", "chain_<passes>" or "deferred")."""
    kind = "chain" if workload.startswith("chain") else workload
    return {"chain": HandChain, "deferred": HandDeferred}[kind](renderer, size=size, **params)


def image_barrier(image, src_stage, src_access, dst_stage, dst_access, old, new, *, mip=0, mips=None):
    return vk.VkImageMemoryBarrier2(
        srcStageMask=src_stage, srcAccessMask=src_access, dstStageMask=dst_stage, dstAccessMask=dst_access,
        oldLayout=old, newLayout=new, srcQueueFamilyIndex=IGNORED, dstQueueFamilyIndex=IGNORED,
        image=image.handle, subresourceRange=vk.VkImageSubresourceRange(
            aspectMask=image.aspect, baseMipLevel=mip, levelCount=mips or (image.mips - mip),
            baseArrayLayer=0, layerCount=image.layers))


def dependency(memory=(), images=()):
    """A VkDependencyInfo and the pointer vkCmdPipelineBarrier2 takes (keep both)."""
    info = vk.VkDependencyInfo(pMemoryBarriers=list(memory) or None, pImageMemoryBarriers=list(images) or None)
    return info, ffi.addressof(info)


class HandFrame:
    """Command pool, command buffer, fence, timestamps and the readback of `output`; subclasses
    record the frame between the two timestamps (record()) and update host data first (update())."""

    def __init__(self, renderer, *, size, readback: bool = True) -> None:
        self.ctx = ctx = renderer.ctx
        self.allocator = renderer.allocator
        self.pipelines = renderer.pipelines
        self.width, self.height = size
        self.family, _, self.queue = ctx.queues["graphics"]
        self.last_gpu_frame_ms = None
        self.resources: list = []
        self.push_set = ctx.device_function("vkCmdPushDescriptorSetKHR", "PFN_vkCmdPushDescriptorSetKHR")
        if self.push_set is None:
            raise RuntimeError("the hand-written frames use push descriptors, which this device lacks")
        self.output = self.image("hand.output", vk.VK_FORMAT_R8G8B8A8_UNORM, size,
                                 vk.VK_IMAGE_USAGE_STORAGE_BIT | vk.VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT
                                 | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT)
        self.host = (self.allocator.staging(name="hand.readback", size=self.width * self.height * 4, readback=True)
                     if readback else None)
        if self.host is not None:
            self.resources.append(self.host)
        self.region = vk.VkBufferImageCopy(
            bufferOffset=0, imageSubresource=vk.VkImageSubresourceLayers(
                aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT, mipLevel=0, baseArrayLayer=0, layerCount=1),
            imageOffset=vk.VkOffset3D(x=0, y=0, z=0),
            imageExtent=vk.VkExtent3D(width=self.width, height=self.height, depth=1))
        self.after_copy = dependency(memory=[vk.VkMemoryBarrier2(
            srcStageMask=COPY, srcAccessMask=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
            dstStageMask=vk.VK_PIPELINE_STAGE_2_HOST_BIT, dstAccessMask=vk.VK_ACCESS_2_HOST_READ_BIT)])
        self.pool = ctx.create("VkCommandPool", vk.VkCommandPoolCreateInfo(
            flags=vk.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT, queueFamilyIndex=self.family), name="hand.pool")
        (self.cmd,) = ctx.allocate_command_buffers(self.pool, 1, name="hand.cmd")
        self.fence = ctx.create("VkFence", vk.VkFenceCreateInfo(), name="hand.fence")
        self.queries = ctx.create("VkQueryPool", vk.VkQueryPoolCreateInfo(
            queryType=vk.VK_QUERY_TYPE_TIMESTAMP, queryCount=2), name="hand.timestamps")
        self.objects = [(self.queries, "VkQueryPool"), (self.fence, "VkFence"), (self.cmd, "VkCommandBuffer"),
                        (self.pool, "VkCommandPool")]
        self.begin = vk.VkCommandBufferBeginInfo(flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT)
        self.submit_info = vk.VkSubmitInfo2(pCommandBufferInfos=[vk.VkCommandBufferSubmitInfo(commandBuffer=self.cmd)])
        self.pending = False
        self.period_ns = ctx.timestamp_period_ns

    # -- helpers for set-up --------------------------------------------------------------------
    def image(self, name, fmt, size, usage, mips: int = 1):
        image = self.allocator.image(name=name, format=fmt, extent=(size[0], size[1], 1), mips=mips, usage=usage)
        self.resources.append(image)
        return image

    def buffer(self, name, size, usage, memory=None):
        kw = {} if memory is None else {"memory": memory}
        buffer = self.allocator.buffer(name=name, size=size, usage=usage, **kw)
        self.resources.append(buffer)
        return buffer

    def writes(self, pipeline, values: dict):
        """Push-descriptor writes for {binding: buffer | (image, sampler kind, mip)}, built once."""
        resolved = {}
        for binding, value in values.items():
            b = pipeline.bindings[binding]
            if isinstance(value, tuple):
                image, kind, mip = value
                storage = b.type == vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE
                sampler = (self.pipelines.sampler(kind) if b.type == vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER
                           else None)
                resolved[binding] = ("image", image.view((mip, 1), (0, 1)), GENERAL if storage else READ_ONLY, sampler)
            else:
                resolved[binding] = ("buffer", value.handle, 0, value.size)
        writes = self.pipelines.writes(pipeline, resolved)
        return writes, ffi.new("VkWriteDescriptorSet[]", writes), len(writes)

    def bind(self, cmd, pipeline, writes) -> None:
        lib.vkCmdBindPipeline(cmd, pipeline.bind_point, pipeline.handle)
        self.push_set(cmd, pipeline.bind_point, pipeline.layout, 0, writes[2], writes[1])

    # -- the frame ----------------------------------------------------------------------------
    def update(self) -> None:
        """Host data for this frame, before recording."""

    def record(self, cmd) -> None:
        raise NotImplementedError

    def render(self, _build=None):
        cmd = self.cmd
        self.update()
        vk.vkResetCommandPool(self.ctx.device, self.pool, 0)
        vk.vkResetQueryPool(self.ctx.device, self.queries, 0, 2)
        vk.vkBeginCommandBuffer(cmd, self.begin)
        lib.vkCmdWriteTimestamp2(cmd, vk.VK_PIPELINE_STAGE_2_TOP_OF_PIPE_BIT, self.queries, 0)
        self.record(cmd)
        if self.host is not None:
            lib.vkCmdPipelineBarrier2(cmd, self.before_copy[1])
            lib.vkCmdCopyImageToBuffer(cmd, self.output.handle, vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                       self.host.handle, 1, ffi.addressof(self.region))
            lib.vkCmdPipelineBarrier2(cmd, self.after_copy[1])
        lib.vkCmdWriteTimestamp2(cmd, vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT, self.queries, 1)
        vk.vkEndCommandBuffer(cmd)
        vk.vkQueueSubmit2(self.queue, 1, [self.submit_info], self.fence)
        self.pending = True

    def record_only(self) -> None:
        """Record the frame's commands without submitting (threaded-recording measurements)."""
        vk.vkResetCommandPool(self.ctx.device, self.pool, 0)
        vk.vkBeginCommandBuffer(self.cmd, self.begin)
        self.record(self.cmd)
        vk.vkEndCommandBuffer(self.cmd)

    def wait(self):
        if not self.pending:
            return
        vk.vkWaitForFences(self.ctx.device, 1, [self.fence], vk.VK_TRUE, vk.UINT64_MAX)
        vk.vkResetFences(self.ctx.device, 1, [self.fence])
        self.pending = False
        data = ffi.new("uint64_t[2]")
        vk.vkGetQueryPoolResults(self.ctx.device, self.queries, 0, 2, 16, data, 8,
                                 vk.VK_QUERY_RESULT_64_BIT | vk.VK_QUERY_RESULT_WAIT_BIT)
        self.last_gpu_frame_ms = (data[1] - data[0]) * self.period_ns / 1e6

    def read(self) -> np.ndarray:
        self.wait()
        return self.host.read().reshape(self.height, self.width, 4)

    def close(self):
        self.wait()
        for handle, kind in self.objects:
            self.ctx.release(handle, kind)
        for r in reversed(self.resources):
            self.allocator.free(r)
        self.resources.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HandChain(HandFrame):
    """benchmarks/workloads.py's chain: link k reads buffer (k-1)%2 and writes k%2; one global
    memory barrier between dispatches; the resolve into the output image; the readback."""

    def __init__(self, renderer, *, passes: int, elements: int, iterations: int, size, readback: bool = True):
        super().__init__(renderer, size=size, readback=readback)
        from benchmarks.workloads import _buffer_push, _seed

        p = self.pipelines
        nbytes = elements * VEC4
        self.buffers = [self.buffer(f"hand.chain{i}", nbytes, vk.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT) for i in range(2)]
        fill, step, self.resolve = (p.compute("bench_fill_buffer.comp"), p.compute("bench_step_buffer.comp"),
                                    p.compute("bench_resolve_buffer.comp"))
        self.links = []
        for k in range(passes):
            pipe = fill if k == 0 else step
            values = {0: self.buffers[0]} if k == 0 else {0: self.buffers[(k - 1) % 2], 1: self.buffers[k % 2]}
            push = _buffer_push(elements, iterations, _seed(k))
            self.links.append((pipe, self.writes(pipe, values), ffi.new("char[]", push), len(push),
                               -(-elements // (pipe.local_size or (64,))[0])))
        self.rwrites = self.writes(self.resolve, {0: self.buffers[(passes - 1) % 2], 1: (self.output, None, 0)})
        self.rpush = ffi.new("char[]", struct.pack("I", elements))
        lx, ly, _ = self.resolve.local_size or (8, 8, 1)
        self.rgroups = (-(-self.width // lx), -(-self.height // ly))
        rw = vk.VK_ACCESS_2_SHADER_STORAGE_READ_BIT | STORAGE_WRITE
        self.between = dependency(memory=[vk.VkMemoryBarrier2(
            srcStageMask=COMPUTE, srcAccessMask=STORAGE_WRITE, dstStageMask=COMPUTE, dstAccessMask=rw)])
        # Before the resolve: the last link's writes visible to it, and the output image (contents
        # not needed: UNDEFINED) into GENERAL for storage writes -- one barrier call.
        self.before_resolve = dependency(
            memory=[vk.VkMemoryBarrier2(srcStageMask=COMPUTE, srcAccessMask=STORAGE_WRITE, dstStageMask=COMPUTE,
                                        dstAccessMask=vk.VK_ACCESS_2_SHADER_STORAGE_READ_BIT)],
            images=[image_barrier(self.output, 0, 0, COMPUTE, STORAGE_WRITE, UNDEFINED, GENERAL)])
        self.before_copy = dependency(images=[image_barrier(
            self.output, COMPUTE, STORAGE_WRITE, COPY, vk.VK_ACCESS_2_TRANSFER_READ_BIT, GENERAL,
            vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL)])

    def record(self, cmd) -> None:
        point = vk.VK_PIPELINE_BIND_POINT_COMPUTE
        bound = None
        for k, (pipe, writes, push, npush, groups) in enumerate(self.links):
            if k:
                lib.vkCmdPipelineBarrier2(cmd, self.between[1])
            if pipe is not bound:
                lib.vkCmdBindPipeline(cmd, point, pipe.handle)
                bound = pipe
            self.push_set(cmd, point, pipe.layout, 0, writes[2], writes[1])
            lib.vkCmdPushConstants(cmd, pipe.layout, pipe.push_stages, 0, npush, push)
            lib.vkCmdDispatch(cmd, groups, 1, 1)
        lib.vkCmdPipelineBarrier2(cmd, self.before_resolve[1])
        self.bind(cmd, self.resolve, self.rwrites)
        lib.vkCmdPushConstants(cmd, self.resolve.layout, self.resolve.push_stages, 0, 4, self.rpush)
        lib.vkCmdDispatch(cmd, self.rgroups[0], self.rgroups[1], 1)


class HandDeferred(HandFrame):
    """samples/deferred.py's frame by hand (see the module docstring)."""

    def __init__(self, renderer, *, size, shadow_size: int, lights: int = 64, time: float = 1.0,
                 readback: bool = True):
        super().__init__(renderer, size=size, readback=readback)
        from samples import common, deferred, shadow_map

        self.common, self.deferred = common, deferred
        self.sc = sc = common.scene()
        self.camera = common.Camera()
        self.lights, self.time, self.shadow_size = lights, time, shadow_size
        w, h = size
        p = self.pipelines
        U = vk
        color_sampled = U.VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | U.VK_IMAGE_USAGE_SAMPLED_BIT
        depth_sampled = U.VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | U.VK_IMAGE_USAGE_SAMPLED_BIT
        storage_sampled = U.VK_IMAGE_USAGE_STORAGE_BIT | U.VK_IMAGE_USAGE_SAMPLED_BIT
        fmt = lambda name: getattr(vk, f"VK_FORMAT_{name}")  # noqa: E731
        self.albedo = self.image("hand.albedo", fmt(deferred.ALBEDO_FORMAT), size, color_sampled)
        self.normal = self.image("hand.normal", fmt(deferred.NORMAL_FORMAT), size, color_sampled)
        self.material = self.image("hand.material", fmt(deferred.MATERIAL_FORMAT), size, color_sampled)
        self.depth = self.image("hand.depth", fmt(deferred.DEPTH_FORMAT), size, depth_sampled)
        self.ao_raw = self.image("hand.ao_raw", fmt(deferred.AO_FORMAT), size, storage_sampled)
        self.ao = self.image("hand.ao", fmt(deferred.AO_FORMAT), size, storage_sampled)
        self.cascades = [self.image(f"hand.shadow_cascade{c}", fmt(shadow_map.SHADOW_FORMAT),
                                    (shadow_size, shadow_size), depth_sampled) for c in range(2)]
        self.mask = self.image("hand.shadow_mask", fmt(deferred.SHADOW_MASK_FORMAT), size, color_sampled)
        self.hdr = self.image("hand.hdr", fmt(deferred.HDR_FORMAT), size, color_sampled)
        bsize = (max(1, w // 2), max(1, h // 2))
        self.bloom_mips = mips = deferred.bloom_mips(w, h)
        self.bloom = self.image("hand.bloom", fmt(deferred.HDR_FORMAT), bsize, color_sampled, mips=mips)
        self.ldr = self.image("hand.ldr", fmt(deferred.LDR_FORMAT), size, color_sampled)

        # Static mesh data and light paths: uploaded once. Per-frame data: a host-visible buffer
        # written each frame. The lights: written by the lights pass each frame.
        B = vk
        storage, dst = B.VK_BUFFER_USAGE_STORAGE_BUFFER_BIT, B.VK_BUFFER_USAGE_TRANSFER_DST_BIT
        paths = deferred.light_paths(max(1, lights))
        self.vertices = self.buffer("hand.vertices", sc.vertex_bytes, storage | dst)
        self.indices = self.buffer("hand.indices", sc.index_bytes, B.VK_BUFFER_USAGE_INDEX_BUFFER_BIT | dst)
        self.light_paths = self.buffer("hand.light_paths", len(paths), storage | dst)
        self.frame = self.buffer("hand.frame", common.FRAME_UNIFORMS, B.VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, HOST_UPLOAD)
        self.light_buffer = self.buffer("hand.lights", max(1, lights) * common.LIGHT_FLOATS * 4, storage)
        self._upload_once({self.vertices: sc.vertices.tobytes(), self.indices: sc.indices.tobytes(),
                           self.light_paths: paths})

        cf = lambda *images: tuple(i.format for i in images)  # noqa: E731
        gstate = dict(depth_test=True, depth_write=True)
        self.p_scene = p.graphics("scene.vert", "gbuffer.frag", color_formats=cf(self.albedo, self.normal, self.material),
                                  depth_format=self.depth.format, **gstate)
        self.p_markers = p.graphics("markers.vert", "gbuffer.frag",
                                    color_formats=cf(self.albedo, self.normal, self.material),
                                    depth_format=self.depth.format, **gstate)
        self.p_lights = p.compute("move_lights.comp")
        self.lights_groups = -(-max(1, lights) // (self.p_lights.local_size or (64, 1, 1))[0])
        self.p_ssao, self.p_blur = p.compute("ssao.comp"), p.compute("ssao_blur.comp")
        self.p_shadow = p.graphics("shadow.vert", None, depth_format=self.cascades[0].format,
                                   depth_bias=shadow_map.DEPTH_BIAS, **gstate)

        def full(frag, target, **state):
            return p.graphics("fullscreen.vert", frag, color_formats=(target.format,), **state)
        self.p_project = full("shadow_project.frag", self.mask)
        self.p_light = full("deferred_light.frag", self.hdr)
        self.p_down, self.p_up = full("bloom_down.frag", self.bloom), full("bloom_up.frag", self.bloom, blend=True)
        self.p_tonemap, self.p_fxaa = full("tonemap.frag", self.ldr), full("fxaa.frag", self.output)

        n = "nearest"
        self.w_lights = self.writes(self.p_lights, {0: self.light_paths, 1: self.frame, 2: self.light_buffer})
        self.w_scene = self.writes(self.p_scene, {0: self.vertices, 1: self.frame})
        self.w_markers = self.writes(self.p_markers, {0: self.vertices, 1: self.frame, 3: self.light_buffer})
        self.w_ssao = self.writes(self.p_ssao, {0: (self.depth, n, 0), 1: (self.normal, n, 0),
                                                2: (self.ao_raw, None, 0), 3: self.frame})
        self.w_blur = self.writes(self.p_blur, {0: (self.ao_raw, "linear", 0), 1: (self.ao, None, 0)})
        self.w_shadow = self.writes(self.p_shadow, {0: self.vertices, 1: self.frame})
        self.w_project = [self.writes(self.p_project, {0: (self.depth, n, 0), 1: (self.normal, n, 0),
                                                       2: (self.cascades[c], "shadow", 0), 3: self.frame})
                          for c in range(2)]
        self.w_light = self.writes(self.p_light, {
            0: (self.albedo, n, 0), 1: (self.normal, n, 0), 2: (self.material, n, 0), 3: (self.depth, n, 0),
            4: (self.ao, n, 0), 5: (self.mask, n, 0), 6: self.light_buffer, 7: self.frame})
        self.w_down = [self.writes(self.p_down, {0: (self.hdr, "linear", 0) if i == 0 else (self.bloom, "linear", i - 1)})
                       for i in range(mips)]
        self.w_up = {i: self.writes(self.p_up, {0: (self.bloom, "linear", i + 1)}) for i in range(mips - 1)}
        self.w_tonemap = self.writes(self.p_tonemap, {0: (self.hdr, "linear", 0), 2: (self.bloom, "linear", 0)})
        self.w_fxaa = self.writes(self.p_fxaa, {0: (self.ldr, "linear", 0)})

        # Push constants, as the sample's passes push them.
        f32 = lambda *v: ffi.new("char[]", np.array(v, np.float32).tobytes())  # noqa: E731
        self.push_ssao = f32(*deferred.SSAO)
        self.push_marker = f32(deferred.MARKER_RADIUS)
        self.push_project = [ffi.new("char[]", np.array([c], np.int32).tobytes()) for c in range(2)]
        cascade_index = [np.array([c], np.uint32).tobytes() for c in range(2)]
        self.push_instances = [(ffi.new("char[]", data), len(data)) for data in sc.pushes]
        self.push_shadow = [[(ffi.new("char[]", data[:64] + cascade_index[c]), 68) for data in sc.pushes]
                            for c in range(2)]
        self.draws = [sc.ranges[inst.mesh] for inst in sc.instances]

        def extent(mip):
            return max(1, bsize[0] >> mip), max(1, bsize[1] >> mip)
        self.push_down = []
        for i in range(mips):
            source = (w, h) if i == 0 else extent(i - 1)
            self.push_down.append(f32(1.0 / source[0], 1.0 / source[1],
                                      *(deferred.BLOOM_THRESHOLD if i == 0 else (0.0, 0.0))))
        self.push_up = {i: f32(1.0 / extent(i + 1)[0], 1.0 / extent(i + 1)[1], deferred.BLOOM_UP_WEIGHT)
                        for i in range(mips - 1)}
        self.push_tonemap = f32(*deferred.TONEMAP)

        # Rendering infos (attachments, load/store, render area, viewport, scissor), built once.
        clear0 = vk.VkClearValue(color=vk.VkClearColorValue(float32=[0.0, 0.0, 0.0, 0.0]))
        depth1 = vk.VkClearValue(depthStencil=vk.VkClearDepthStencilValue(depth=1.0, stencil=0))
        self.r_gbuffer = self._rendering(size, [(self.albedo, 0, "clear", clear0), (self.normal, 0, "clear", clear0),
                                                (self.material, 0, "clear", clear0)], (self.depth, "clear", depth1))
        self.r_shadow = [self._rendering((shadow_size, shadow_size), [], (self.cascades[c], "clear", depth1))
                         for c in range(2)]
        self.r_project = [self._rendering(size, [(self.mask, 0, "dont_care" if c == 0 else "load", None)])
                          for c in range(2)]
        self.r_light = self._rendering(size, [(self.hdr, 0, "dont_care", None)])
        self.r_down = [self._rendering(extent(i), [(self.bloom, i, "dont_care", None)]) for i in range(mips)]
        self.r_up = {i: self._rendering(extent(i), [(self.bloom, i, "load", None)]) for i in range(mips - 1)}
        self.r_tonemap = self._rendering(size, [(self.ldr, 0, "dont_care", None)])
        self.r_fxaa = self._rendering(size, [(self.output, 0, "dont_care", None)])

        self._barriers(mips)

    def _upload_once(self, contents: dict) -> None:
        """{buffer: bytes} copied in through one staging buffer, waited for."""
        from framegraph.backends.vulkan import one_time_commands
        staging = self.allocator.staging(name="hand.static_staging", size=sum(len(raw) for raw in contents.values()))
        offset = 0
        with one_time_commands(self.ctx, name="hand.upload") as cmd:
            for buffer, raw in contents.items():
                staging.mapped[offset:offset + len(raw)] = raw
                vk.vkCmdCopyBuffer(cmd, staging.handle, buffer.handle, 1,
                                   [vk.VkBufferCopy(srcOffset=offset, dstOffset=0, size=len(raw))])
                offset += len(raw)
        self.allocator.free(staging)     # the fence wait in one_time_commands: the copies are done

    def _rendering(self, extent, colors, depth=None):
        ops = {"clear": vk.VK_ATTACHMENT_LOAD_OP_CLEAR, "load": vk.VK_ATTACHMENT_LOAD_OP_LOAD,
               "dont_care": vk.VK_ATTACHMENT_LOAD_OP_DONT_CARE}
        infos = [vk.VkRenderingAttachmentInfo(imageView=image.view((mip, 1), (0, 1)), imageLayout=COLOR_ATT,
                                              resolveMode=vk.VK_RESOLVE_MODE_NONE, loadOp=ops[load],
                                              storeOp=vk.VK_ATTACHMENT_STORE_OP_STORE, clearValue=clear)
                 for image, mip, load, clear in colors]
        depth_info = None
        if depth is not None:
            image, load, clear = depth
            depth_info = vk.VkRenderingAttachmentInfo(imageView=image.view(), imageLayout=DEPTH_ATT,
                                                      resolveMode=vk.VK_RESOLVE_MODE_NONE, loadOp=ops[load],
                                                      storeOp=vk.VK_ATTACHMENT_STORE_OP_STORE, clearValue=clear)
        width, height = extent
        info = vk.VkRenderingInfo(renderArea=vk.VkRect2D(offset=vk.VkOffset2D(x=0, y=0),
                                                         extent=vk.VkExtent2D(width=width, height=height)),
                                  layerCount=1, pColorAttachments=infos or None, pDepthAttachment=depth_info)
        viewport = ffi.new("VkViewport*", {"x": 0.0, "y": 0.0, "width": float(width), "height": float(height),
                                           "minDepth": 0.0, "maxDepth": 1.0})
        scissor = ffi.new("VkRect2D*", {"offset": {"x": 0, "y": 0}, "extent": {"width": width, "height": height}})
        return info, ffi.addressof(info), viewport, scissor

    def _barriers(self, mips: int) -> None:
        """Every barrier of the frame, placed by hand: each names exactly the producer and the
        consumer stages, and layout transitions ride along with the dependency they need anyway."""
        ib = image_barrier
        att_w = (COLOR_OUT, COLOR_WRITE)
        depth_w = (DEPTH_TESTS, DEPTH_RW)
        frag_r = (FRAGMENT, SAMPLED_READ)
        comp_r = (COMPUTE, SAMPLED_READ)
        both_r = (COMPUTE | FRAGMENT, SAMPLED_READ)
        # The lights pass's output, read by the markers' vertex shader and the lighting pass (the
        # previous frame's reads finished at its fence).
        lights_written = vk.VkMemoryBarrier2(
            srcStageMask=COMPUTE, srcAccessMask=STORAGE_WRITE,
            dstStageMask=vk.VK_PIPELINE_STAGE_2_VERTEX_SHADER_BIT | FRAGMENT,
            dstAccessMask=vk.VK_ACCESS_2_SHADER_STORAGE_READ_BIT)
        self.b_start = dependency(memory=[lights_written], images=[
            ib(self.albedo, 0, 0, *att_w, UNDEFINED, COLOR_ATT), ib(self.normal, 0, 0, *att_w, UNDEFINED, COLOR_ATT),
            ib(self.material, 0, 0, *att_w, UNDEFINED, COLOR_ATT), ib(self.depth, 0, 0, *depth_w, UNDEFINED, DEPTH_ATT)])
        self.b_after_gbuffer = dependency(images=[
            ib(self.depth, *depth_w, *both_r, DEPTH_ATT, READ_ONLY), ib(self.normal, *att_w, *both_r, COLOR_ATT, READ_ONLY),
            ib(self.albedo, *att_w, *frag_r, COLOR_ATT, READ_ONLY), ib(self.material, *att_w, *frag_r, COLOR_ATT, READ_ONLY),
            ib(self.ao_raw, 0, 0, COMPUTE, STORAGE_WRITE, UNDEFINED, GENERAL)])
        self.b_after_ssao = dependency(images=[
            ib(self.ao_raw, COMPUTE, STORAGE_WRITE, *comp_r, GENERAL, READ_ONLY),
            ib(self.ao, 0, 0, COMPUTE, STORAGE_WRITE, UNDEFINED, GENERAL)])
        self.b_after_blur = dependency(images=[
            ib(self.ao, COMPUTE, STORAGE_WRITE, *frag_r, GENERAL, READ_ONLY),
            ib(self.cascades[0], 0, 0, *depth_w, UNDEFINED, DEPTH_ATT),
            ib(self.cascades[1], 0, 0, *depth_w, UNDEFINED, DEPTH_ATT),
            ib(self.mask, 0, 0, *att_w, UNDEFINED, COLOR_ATT)])
        self.b_after_shadow = [dependency(images=[ib(self.cascades[c], *depth_w, *frag_r, DEPTH_ATT, READ_ONLY)])
                               for c in range(2)]
        # The second projection loads the mask the first wrote (read-modify-write of attachments).
        self.b_after_project0 = dependency(memory=[vk.VkMemoryBarrier2(
            srcStageMask=COLOR_OUT, srcAccessMask=COLOR_WRITE, dstStageMask=COLOR_OUT, dstAccessMask=COLOR_RW)])
        self.b_before_light = dependency(images=[
            ib(self.mask, *att_w, *frag_r, COLOR_ATT, READ_ONLY), ib(self.hdr, 0, 0, *att_w, UNDEFINED, COLOR_ATT)])
        self.b_before_down = [dependency(images=[
            ib(self.hdr, *att_w, *frag_r, COLOR_ATT, READ_ONLY), ib(self.bloom, 0, 0, *att_w, UNDEFINED, COLOR_ATT)])]
        for i in range(1, mips):
            self.b_before_down.append(dependency(images=[ib(self.bloom, *att_w, *frag_r, COLOR_ATT, READ_ONLY, mip=i - 1,
                                                             mips=1)]))
        # Up pass i samples mip i+1 (just written as an attachment) and blends into mip i (sampled by
        # the down pass i+1 before: a write after read, into the attachment layout).
        self.b_before_up = {}
        for i in range(mips - 2, -1, -1):
            self.b_before_up[i] = dependency(images=[
                ib(self.bloom, *att_w, *frag_r, COLOR_ATT, READ_ONLY, mip=i + 1, mips=1),
                ib(self.bloom, *frag_r, COLOR_OUT, COLOR_RW, READ_ONLY, COLOR_ATT, mip=i, mips=1)])
        self.b_before_tonemap = dependency(images=[
            ib(self.bloom, *att_w, *frag_r, COLOR_ATT, READ_ONLY, mip=0, mips=1),
            ib(self.ldr, 0, 0, *att_w, UNDEFINED, COLOR_ATT)])
        self.b_before_fxaa = dependency(images=[
            ib(self.ldr, *att_w, *frag_r, COLOR_ATT, READ_ONLY), ib(self.output, 0, 0, *att_w, UNDEFINED, COLOR_ATT)])
        self.before_copy = dependency(images=[ib(self.output, *att_w, COPY, vk.VK_ACCESS_2_TRANSFER_READ_BIT, COLOR_ATT,
                                                 vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL)])

    def update(self) -> None:
        data = self.deferred.frame_data((self.width, self.height), lights=self.lights, shadow_size=self.shadow_size,
                                        camera=self.camera, t=self.time)
        self.frame.mapped[:len(data)] = data

    def _begin_rendering(self, cmd, r) -> None:
        lib.vkCmdBeginRendering(cmd, r[1])
        lib.vkCmdSetViewport(cmd, 0, 1, r[2])
        lib.vkCmdSetScissor(cmd, 0, 1, r[3])

    def _fullscreen(self, cmd, r, pipeline, writes, push=None, npush=0) -> None:
        self._begin_rendering(cmd, r)
        self.bind(cmd, pipeline, writes)
        if push is not None:
            lib.vkCmdPushConstants(cmd, pipeline.layout, pipeline.push_stages, 0, npush, push)
        lib.vkCmdDraw(cmd, 3, 1, 0, 0)
        lib.vkCmdEndRendering(cmd)

    def _instances(self, cmd, pipeline, pushes) -> None:
        lib.vkCmdBindIndexBuffer(cmd, self.indices.handle, 0, vk.VK_INDEX_TYPE_UINT32)
        for (first, count, offset), (push, size) in zip(self.draws, pushes):
            lib.vkCmdPushConstants(cmd, pipeline.layout, pipeline.push_stages, 0, size, push)
            lib.vkCmdDrawIndexed(cmd, count, 1, first, offset, 0)

    def record(self, cmd) -> None:
        barrier = lib.vkCmdPipelineBarrier2
        compute = vk.VK_PIPELINE_BIND_POINT_COMPUTE
        w, h = self.width, self.height
        self.bind(cmd, self.p_lights, self.w_lights)
        lib.vkCmdDispatch(cmd, self.lights_groups, 1, 1)
        barrier(cmd, self.b_start[1])
        self._begin_rendering(cmd, self.r_gbuffer)
        self.bind(cmd, self.p_scene, self.w_scene)
        self._instances(cmd, self.p_scene, self.push_instances)
        first, count, offset = self.sc.ranges["marker"]
        self.bind(cmd, self.p_markers, self.w_markers)
        lib.vkCmdPushConstants(cmd, self.p_markers.layout, self.p_markers.push_stages, 0, 4, self.push_marker)
        lib.vkCmdDrawIndexed(cmd, count, self.lights, first, offset, 0)
        lib.vkCmdEndRendering(cmd)

        barrier(cmd, self.b_after_gbuffer[1])
        lx, ly, _ = self.p_ssao.local_size or (8, 8, 1)
        groups = (-(-w // lx), -(-h // ly))
        self.bind(cmd, self.p_ssao, self.w_ssao)
        lib.vkCmdPushConstants(cmd, self.p_ssao.layout, self.p_ssao.push_stages, 0, 8, self.push_ssao)
        lib.vkCmdDispatch(cmd, groups[0], groups[1], 1)
        barrier(cmd, self.b_after_ssao[1])
        lx, ly, _ = self.p_blur.local_size or (8, 8, 1)
        self.bind(cmd, self.p_blur, self.w_blur)
        lib.vkCmdDispatch(cmd, -(-w // lx), -(-h // ly), 1)
        barrier(cmd, self.b_after_blur[1])

        for c in range(2):
            self._begin_rendering(cmd, self.r_shadow[c])
            self.bind(cmd, self.p_shadow, self.w_shadow)
            self._instances(cmd, self.p_shadow, self.push_shadow[c])
            lib.vkCmdEndRendering(cmd)
            barrier(cmd, self.b_after_shadow[c][1])
            if c == 1:
                barrier(cmd, self.b_after_project0[1])
            self._fullscreen(cmd, self.r_project[c], self.p_project, self.w_project[c], self.push_project[c], 4)

        barrier(cmd, self.b_before_light[1])
        self._fullscreen(cmd, self.r_light, self.p_light, self.w_light)
        for i in range(self.bloom_mips):
            barrier(cmd, self.b_before_down[i][1])
            self._fullscreen(cmd, self.r_down[i], self.p_down, self.w_down[i], self.push_down[i], 16)
        for i in range(self.bloom_mips - 2, -1, -1):
            barrier(cmd, self.b_before_up[i][1])
            self._fullscreen(cmd, self.r_up[i], self.p_up, self.w_up[i], self.push_up[i], 12)
        barrier(cmd, self.b_before_tonemap[1])
        self._fullscreen(cmd, self.r_tonemap, self.p_tonemap, self.w_tonemap, self.push_tonemap, 8)
        barrier(cmd, self.b_before_fxaa[1])
        self._fullscreen(cmd, self.r_fxaa, self.p_fxaa, self.w_fxaa)
