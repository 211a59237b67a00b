"""Pipelines from committed SPIR-V: layouts derived by reflection, graphics pipelines for dynamic
rendering (attachment formats come from the pass that draws), compute pipelines, one
VkPipelineCache, and descriptors written for the caller — pushed into the command buffer with
VK_KHR_push_descriptor where the device has it, else from per-frame pools reset with the frame.

Set 0 is the pass's set (written per draw from the graph's resources); sets 1.. are ordinary
descriptor sets the caller allocates and binds (e.g. kit.DescriptorSets for resources that outlive
frames). Graphics pipelines take vertex input (VertexInput) or pull vertices from storage buffers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import vulkan as vk

from framegraph.errors import FrameGraphError, show_value
from framegraph.vk import Access

from .owner import Owner
from .reflect import Binding, ShaderInfo, merge_bindings, reflect
from .shaders import ShaderError, ShaderLibrary, ShaderSource

IMAGE_DESCRIPTORS = (vk.VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE, vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
                     vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, vk.VK_DESCRIPTOR_TYPE_SAMPLER)
BUFFER_DESCRIPTORS = (vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER)

_TOPOLOGIES = {"triangle_list": vk.VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST,
               "triangle_strip": vk.VK_PRIMITIVE_TOPOLOGY_TRIANGLE_STRIP,
               "line_list": vk.VK_PRIMITIVE_TOPOLOGY_LINE_LIST, "point_list": vk.VK_PRIMITIVE_TOPOLOGY_POINT_LIST}
_CULL = {"none": vk.VK_CULL_MODE_NONE, "back": vk.VK_CULL_MODE_BACK_BIT, "front": vk.VK_CULL_MODE_FRONT_BIT}
_COMPARE = {"less": vk.VK_COMPARE_OP_LESS, "less_equal": vk.VK_COMPARE_OP_LESS_OR_EQUAL,
            "greater": vk.VK_COMPARE_OP_GREATER, "greater_equal": vk.VK_COMPARE_OP_GREATER_OR_EQUAL,
            "equal": vk.VK_COMPARE_OP_EQUAL, "always": vk.VK_COMPARE_OP_ALWAYS}
_INPUT_RATES = {"vertex": vk.VK_VERTEX_INPUT_RATE_VERTEX, "instance": vk.VK_VERTEX_INPUT_RATE_INSTANCE}
_RGBA = (vk.VK_COLOR_COMPONENT_R_BIT | vk.VK_COLOR_COMPONENT_G_BIT | vk.VK_COLOR_COMPONENT_B_BIT
         | vk.VK_COLOR_COMPONENT_A_BIT)


@dataclass(frozen=True)
class VertexAttribute:
    """One `layout(location = N) in` of the vertex shader: read at `offset` of its binding's element."""
    location: int
    format: str              # a Format name: "R32G32B32A32_SFLOAT", "R32G32_SFLOAT", "R8G8B8A8_UNORM", ...
    offset: int = 0


@dataclass(frozen=True)
class VertexBinding:
    """One vertex buffer binding: its element stride, whether it steps per vertex or per instance,
    and the attributes read from it."""
    binding: int
    stride: int
    attributes: tuple[VertexAttribute, ...]
    rate: str = "vertex"     # or "instance"


@dataclass(frozen=True)
class VertexInput:
    """A graphics pipeline's vertex input state (hashable: it is part of the pipeline's cache key).
    The pass binds the buffers (kit.bind_vertex_buffers) and declares them `vertex_buffer` reads."""
    bindings: tuple[VertexBinding, ...] = ()

    @staticmethod
    def of(*bindings: VertexBinding) -> "VertexInput":
        return VertexInput(tuple(bindings))

    def create_info(self):
        from framegraph.vk import Format

        if not self.bindings:
            return vk.VkPipelineVertexInputStateCreateInfo()
        return vk.VkPipelineVertexInputStateCreateInfo(
            pVertexBindingDescriptions=[vk.VkVertexInputBindingDescription(
                binding=b.binding, stride=b.stride, inputRate=_INPUT_RATES[b.rate]) for b in self.bindings],
            pVertexAttributeDescriptions=[vk.VkVertexInputAttributeDescription(
                location=a.location, binding=b.binding, format=int(Format.parse(a.format)), offset=a.offset)
                for b in self.bindings for a in b.attributes])


@dataclass(eq=False)
class Pipeline:
    name: str
    handle: Any
    layout: Any
    set_layout: Any | None
    bind_point: int
    bindings: dict = field(default_factory=dict)     # binding number -> reflect.Binding (set 0)
    push_size: int = 0
    push_stages: int = 0
    local_size: tuple[int, int, int] | None = None
    color_formats: tuple[int, ...] = ()
    depth_format: int = 0
    # Every set the shaders use: set -> VkDescriptorSetLayout, and set -> {binding: reflect.Binding}.
    # Set 0 is `set_layout`/`bindings` (push descriptors where the device has them); the others are
    # plain layouts for descriptor sets allocated by the caller.
    set_layouts: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The sets numbered 1 and up (kit.DescriptorSets binds them): a draw or dispatch checks them.
        self.other_sets = tuple(sorted(k for k in self.sets if k))


class Pipelines:
    """Owns shader modules, layouts, samplers, pipelines and the pipeline cache; all are cached by
    what they are made from and live until close()."""

    def __init__(self, ctx, *, push_descriptors: bool | None = None, library: ShaderLibrary | None = None) -> None:
        self.ctx = ctx
        self.owner = Owner(ctx)
        self.library = library or ShaderLibrary()
        # Watch: poll the shader files at most once per frame (frame_clock() -> (frame, completed)).
        self.watch = False
        self.frame_clock = None
        self.reloads = 0
        self.on_reload = None
        self.last_reload_error: Exception | None = None
        self._polled_frame = None
        self._mtimes: dict = {}
        self._retired: list[tuple[int, list]] = []     # (frame, objects) kept until that frame is done
        available = "VK_KHR_push_descriptor" in getattr(ctx, "device_extensions", ())
        if push_descriptors and not available:
            raise RuntimeError("push descriptors requested but VK_KHR_push_descriptor is not enabled")
        self.push_descriptors = available if push_descriptors is None else push_descriptors
        self.cmd_push_descriptor_set = (vk.vkGetDeviceProcAddr(ctx.device, "vkCmdPushDescriptorSetKHR")
                                        if self.push_descriptors else None)
        self.cache = self.owner.create("VkPipelineCache", vk.VkPipelineCacheCreateInfo(), name="framegraph.pipelines")
        self._modules: dict[str, tuple[Any, ShaderInfo]] = {}
        self._sources: dict[str, ShaderSource] = {}
        self._layouts: dict[tuple, tuple[Any, Any]] = {}
        self._pipelines: dict[tuple, Pipeline] = {}
        self._samplers: dict[str, Any] = {}

    # -- building blocks -------------------------------------------------------------------
    def shader(self, name: str, *, pass_name: str | None = None) -> tuple[Any, ShaderInfo]:
        entry = self._modules.get(name)
        if entry is None:
            if not isinstance(name, str):
                raise FrameGraphError(f"a shader is named by a string (a file name), got {show_value(name)}",
                                      pass_name=pass_name, field="shader")
            source = self.library.resolve(name, pass_name=pass_name)
            code = source.code
            info = reflect(code)
            module = self.owner.create("VkShaderModule", vk.VkShaderModuleCreateInfo(codeSize=len(code), pCode=code),
                                       name=name)
            entry = self._modules[name] = (module, info)
            self._sources[name] = source
        return entry

    # -- reload and watch ----------------------------------------------------------------
    def reload(self, names=None, *, frame: int | None = None) -> list[str]:
        """Rebuild the shaders whose files changed (or `names`) and every pipeline made from them.

        Everything is compiled before anything is replaced: on a compile error (ShaderError naming
        file and line) the old pipelines stay in use. The replaced objects are destroyed once frame
        `frame` has finished (see `collect`), or at close() when no frame is given."""
        stale = set(self.library.changed() if names is None else names) & set(self._modules)
        if not stale:
            return []
        fresh = {}
        for name in stale:
            self.library.resolved.pop(name, None)
            fresh[name] = self.library.resolve(name)          # raises before anything is replaced
        old: list = []
        for name in stale:
            module, _ = self._modules.pop(name)
            old.append(("VkShaderModule", module))
            self._sources.pop(name, None)
        for key in [k for k, p in self._pipelines.items() if set(_shaders_of(k)) & stale]:
            old.append(("VkPipeline", self._pipelines.pop(key).handle))
        self._retired.append((frame if frame is not None else 1 << 62, old))
        self.reloads += 1
        self._mtimes = self.library.mtimes()
        if self.on_reload is not None:
            self.on_reload()        # e.g. replayed command buffers hold the old pipelines: record again
        return sorted(stale)

    def collect(self, completed_frame: int) -> None:
        """Destroy pipelines and modules replaced by a reload during a frame <= completed_frame."""
        keep = []
        for frame, objects in self._retired:
            if frame <= completed_frame:
                for kind, handle in objects:
                    self.owner.release(handle, kind)
            else:
                keep.append((frame, objects))
        self._retired = keep

    def _poll(self) -> None:
        """With `watch` on, at the first pipeline lookup of each frame: reload what changed on disk.
        A compile error is reported as a warning once per error (the frame keeps the old pipelines)."""
        if not self.watch or self.frame_clock is None:
            return
        frame, completed = self.frame_clock()
        if frame == self._polled_frame:
            return
        self._polled_frame = frame
        self.collect(completed)
        mtimes = self.library.mtimes()
        if mtimes == self._mtimes:
            return
        self._mtimes = mtimes
        try:
            self.reload(frame=frame)
            self.last_reload_error = None
        except FrameGraphError as error:
            if str(error) != str(self.last_reload_error):
                import warnings
                warnings.warn(f"shader reload failed, keeping the previous pipelines: {error}", RuntimeWarning,
                              stacklevel=4)
            self.last_reload_error = error

    def poll(self) -> None:
        """With `watch` on: reload the shaders that changed on disk, at most once per frame. Pipeline
        lookups call it; call it where a frame looks none up (the recorder does, for replayed frames)."""
        self._poll()

    def _layout(self, bindings: tuple[Binding, ...], push_size: int, push_stages: int):
        """(set layouts by set number, pipeline layout). Sets a shader skips below its highest one
        get an empty layout: a pipeline layout's sets are numbered without gaps."""
        key = (bindings, push_size, push_stages)
        entry = self._layouts.get(key)
        if entry is None:
            by_set: dict[int, list[Binding]] = {}
            for b in bindings:
                by_set.setdefault(b.set, []).append(b)
            set_layouts: dict[int, Any] = {}
            for number in range(max(by_set) + 1 if by_set else 0):
                # Only set 0 is pushed: VK_KHR_push_descriptor allows one push set per layout.
                flags = (vk.VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR
                         if self.push_descriptors and number == 0 and by_set.get(0) else 0)
                set_layouts[number] = self.owner.create("VkDescriptorSetLayout", vk.VkDescriptorSetLayoutCreateInfo(
                    flags=flags, pBindings=[vk.VkDescriptorSetLayoutBinding(
                        binding=b.binding, descriptorType=b.type, descriptorCount=b.count, stageFlags=b.stages)
                        for b in by_set.get(number, ())] or None))
            ranges = ([vk.VkPushConstantRange(stageFlags=push_stages, offset=0, size=push_size)]
                      if push_size else None)
            layout = self.owner.create("VkPipelineLayout", vk.VkPipelineLayoutCreateInfo(
                pSetLayouts=[set_layouts[n] for n in sorted(set_layouts)] or None, pPushConstantRanges=ranges))
            entry = self._layouts[key] = (set_layouts, layout)
        return entry

    def sampler(self, kind: str = "linear") -> Any:
        """"linear", "nearest", or "shadow": a depth-compare sampler (LESS_OR_EQUAL, bilinear, so one
        lookup is a 2x2 PCF) that reads outside the map as lit (opaque white border)."""
        handle = self._samplers.get(kind)
        if handle is None:
            if kind not in ("linear", "nearest", "shadow"):
                raise FrameGraphError(f"sampler {show_value(kind)}: 'linear', 'nearest' or 'shadow'", field="sampler")
            filt = {"linear": vk.VK_FILTER_LINEAR, "nearest": vk.VK_FILTER_NEAREST,
                    "shadow": vk.VK_FILTER_LINEAR}[kind]
            shadow = kind == "shadow"
            clamp = (vk.VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER if shadow
                     else vk.VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_EDGE)
            handle = self._samplers[kind] = self.owner.create("VkSampler", vk.VkSamplerCreateInfo(
                magFilter=filt, minFilter=filt,
                mipmapMode=(vk.VK_SAMPLER_MIPMAP_MODE_LINEAR if kind == "linear"
                            else vk.VK_SAMPLER_MIPMAP_MODE_NEAREST),
                addressModeU=clamp, addressModeV=clamp, addressModeW=clamp, maxLod=vk.VK_LOD_CLAMP_NONE,
                compareEnable=vk.VK_TRUE if shadow else vk.VK_FALSE,
                compareOp=vk.VK_COMPARE_OP_LESS_OR_EQUAL if shadow else vk.VK_COMPARE_OP_NEVER,
                borderColor=vk.VK_BORDER_COLOR_FLOAT_OPAQUE_WHITE if shadow else 0),
                name=f"sampler.{kind}")
        return handle

    def _finish(self, name, handle, infos, bind_point, **extra) -> Pipeline:
        bindings = merge_bindings(infos)
        push_size = max(i.push_constant_size for i in infos)
        stages = 0
        for i in infos:
            stages |= i.stage
        push_stages = stages if push_size else 0
        set_layouts, layout = self._layout(bindings, (push_size + 3) & ~3, push_stages)
        sets: dict[int, dict] = {}
        for b in bindings:
            sets.setdefault(b.set, {})[b.binding] = b
        # A shader with no set-0 bindings has no set 0 to push (an empty layout may stand in for it).
        set_layout = set_layouts.get(0) if sets.get(0) else None
        return Pipeline(name=name, handle=handle, layout=layout, set_layout=set_layout, bind_point=bind_point,
                        bindings=sets.get(0, {}), push_size=(push_size + 3) & ~3,
                        push_stages=push_stages, set_layouts=set_layouts, sets=sets, **extra)

    # -- pipelines -------------------------------------------------------------------------
    def compute(self, shader: str, *, name: str | None = None, pass_name: str | None = None) -> Pipeline:
        self._poll()
        key = ("compute", shader)
        pipeline = self._pipelines.get(key)
        if pipeline is None:
            module, info = self.shader(shader, pass_name=pass_name)
            _check_stage(shader, info, vk.VK_SHADER_STAGE_COMPUTE_BIT, "compute_pipeline", pass_name)
            probe = self._finish(name or shader, None, [info], vk.VK_PIPELINE_BIND_POINT_COMPUTE,
                                 local_size=info.local_size)
            # Held in a name: the create info holds a copy whose pName points into this one.
            stage = vk.VkPipelineShaderStageCreateInfo(stage=vk.VK_SHADER_STAGE_COMPUTE_BIT, module=module,
                                                       pName="main")
            create = vk.VkComputePipelineCreateInfo(stage=stage, layout=probe.layout)
            handle = vk.vkCreateComputePipelines(self.ctx.device, self.cache, 1, [create], None)[0]
            probe.handle = self._track(handle, probe.name)
            pipeline = self._pipelines[key] = probe
        return pipeline

    def graphics(self, vertex: str, fragment: str | None = None, *, color_formats=(), depth_format: int = 0,
                 samples: int = 1, topology: str = "triangle_list", cull: str = "none", blend: bool = False,
                 depth_test: bool = False, depth_write: bool = False, depth_compare: str = "less",
                 depth_bias: tuple[float, float] | None = None, vertex_input: VertexInput | None = None,
                 name: str | None = None, pass_name: str | None = None) -> Pipeline:
        """A pipeline for dynamic rendering into attachments of these formats (PassContext passes
        the formats of the pass's declared attachments). Viewport and scissor are dynamic.
        `depth_bias=(constant, slope)` offsets depth as shadow-map passes do against acne.
        `vertex_input` describes vertex buffers (default: none, shaders pull vertices themselves)."""
        self._poll()
        color_formats = tuple(int(f) for f in color_formats)
        if depth_bias is not None:
            try:
                constant, slope = depth_bias
                depth_bias = (float(constant), float(slope))
            except (TypeError, ValueError):
                raise FrameGraphError(f"depth_bias={show_value(depth_bias)}: (constant, slope), two numbers",
                                      pass_name=pass_name, field="depth_bias") from None
        key = ("graphics", vertex, fragment, color_formats, int(depth_format), samples, topology, cull, blend,
               depth_test, depth_write, depth_compare, depth_bias, vertex_input or None)
        pipeline = self._pipelines.get(key)
        if pipeline is not None:
            return pipeline
        for field, value, choices in (("topology", topology, _TOPOLOGIES), ("cull", cull, _CULL),
                                      ("depth_compare", depth_compare, _COMPARE)):
            if value not in choices:
                raise FrameGraphError(f"graphics_pipeline {field}={show_value(value)}: one of {', '.join(choices)}",
                                      pass_name=pass_name, field=field)
        modules = [self.shader(vertex, pass_name=pass_name)] + (
            [self.shader(fragment, pass_name=pass_name)] if fragment else [])
        _check_stage(vertex, modules[0][1], vk.VK_SHADER_STAGE_VERTEX_BIT, "graphics_pipeline's vertex", pass_name)
        if fragment:
            _check_stage(fragment, modules[1][1], vk.VK_SHADER_STAGE_FRAGMENT_BIT, "graphics_pipeline's fragment",
                         pass_name)
        probe = self._finish(name or f"{vertex}+{fragment}", None, [info for _, info in modules],
                             vk.VK_PIPELINE_BIND_POINT_GRAPHICS, color_formats=color_formats,
                             depth_format=int(depth_format))
        stages = [vk.VkPipelineShaderStageCreateInfo(stage=info.stage, module=module, pName="main")
                  for module, info in modules]
        attachment = vk.VkPipelineColorBlendAttachmentState(
            blendEnable=vk.VK_TRUE if blend else vk.VK_FALSE, colorWriteMask=_RGBA,
            srcColorBlendFactor=vk.VK_BLEND_FACTOR_SRC_ALPHA,
            dstColorBlendFactor=vk.VK_BLEND_FACTOR_ONE_MINUS_SRC_ALPHA, colorBlendOp=vk.VK_BLEND_OP_ADD,
            srcAlphaBlendFactor=vk.VK_BLEND_FACTOR_ONE, dstAlphaBlendFactor=vk.VK_BLEND_FACTOR_ZERO,
            alphaBlendOp=vk.VK_BLEND_OP_ADD)
        create = vk.VkGraphicsPipelineCreateInfo(
            pNext=vk.VkPipelineRenderingCreateInfo(pColorAttachmentFormats=list(color_formats) or None,
                                                   depthAttachmentFormat=int(depth_format)),
            pStages=stages,
            pVertexInputState=(vertex_input or VertexInput()).create_info(),
            pInputAssemblyState=vk.VkPipelineInputAssemblyStateCreateInfo(topology=_TOPOLOGIES[topology]),
            pViewportState=vk.VkPipelineViewportStateCreateInfo(viewportCount=1, scissorCount=1),
            pRasterizationState=vk.VkPipelineRasterizationStateCreateInfo(
                polygonMode=vk.VK_POLYGON_MODE_FILL, cullMode=_CULL[cull],
                frontFace=vk.VK_FRONT_FACE_COUNTER_CLOCKWISE, lineWidth=1.0,
                depthBiasEnable=vk.VK_TRUE if depth_bias else vk.VK_FALSE,
                depthBiasConstantFactor=depth_bias[0] if depth_bias else 0.0,
                depthBiasSlopeFactor=depth_bias[1] if depth_bias else 0.0),
            pMultisampleState=vk.VkPipelineMultisampleStateCreateInfo(rasterizationSamples=samples),
            pDepthStencilState=vk.VkPipelineDepthStencilStateCreateInfo(
                depthTestEnable=vk.VK_TRUE if depth_test else vk.VK_FALSE,
                depthWriteEnable=vk.VK_TRUE if depth_write else vk.VK_FALSE,
                depthCompareOp=_COMPARE[depth_compare], maxDepthBounds=1.0) if depth_format else None,
            pColorBlendState=vk.VkPipelineColorBlendStateCreateInfo(
                pAttachments=[attachment] * len(color_formats) or None),
            pDynamicState=vk.VkPipelineDynamicStateCreateInfo(
                pDynamicStates=[vk.VK_DYNAMIC_STATE_VIEWPORT, vk.VK_DYNAMIC_STATE_SCISSOR]),
            layout=probe.layout)
        handle = vk.vkCreateGraphicsPipelines(self.ctx.device, self.cache, 1, [create], None)[0]
        probe.handle = self._track(handle, probe.name)
        self._pipelines[key] = probe
        return probe

    def _track(self, handle, name):
        device = self.ctx.device
        self.ctx.track("VkPipeline", handle, lambda: vk.vkDestroyPipeline(device, handle, None), name=name)
        return self.owner.adopt("VkPipeline", handle)

    # -- descriptors -----------------------------------------------------------------------
    @staticmethod
    def writes(pipeline: Pipeline, values: dict[int, tuple]) -> list:
        """VkWriteDescriptorSet structs (dstSet unset) for resolved values:
        image descriptors ("image", view, layout, sampler) and buffers ("buffer", handle, offset, range)."""
        out = []
        for binding, value in sorted(values.items()):
            b = pipeline.bindings.get(binding)
            if b is None:
                raise ValueError(f"pipeline {pipeline.name!r} has no binding {binding} in set 0")
            if value[0] == "image":
                _, view, layout, sampler = value
                info = vk.VkDescriptorImageInfo(sampler=sampler, imageView=view, imageLayout=layout)
                out.append(vk.VkWriteDescriptorSet(dstBinding=binding, descriptorCount=1, descriptorType=b.type,
                                                   pImageInfo=[info]))
            else:
                _, handle, offset, size = value
                info = vk.VkDescriptorBufferInfo(buffer=handle, offset=offset, range=size)
                out.append(vk.VkWriteDescriptorSet(dstBinding=binding, descriptorCount=1, descriptorType=b.type,
                                                   pBufferInfo=[info]))
        return out

    def close(self) -> None:
        self._retired.clear()           # the owner destroys them with everything else
        self._pipelines.clear()
        self._layouts.clear()
        self._modules.clear()
        self._samplers.clear()
        self.owner.close()


def reload_shaders(renderer) -> list[str]:
    """Renderer.reload_shaders: wait for the frames in flight, then rebuild what changed."""
    renderer.wait()
    renderer.pipelines.on_reload = getattr(renderer, "invalidate_recordings", None)
    names = renderer.pipelines.reload(frame=renderer.frame - 1)
    renderer.pipelines.collect(renderer.frame - 1)
    return names


def watch_shaders(renderer, enabled: bool = True) -> None:
    """Renderer.watch_shaders: poll shader files once per frame and rebuild on change (for
    development: a compile error warns and keeps the old pipelines). The poll runs at a frame's
    first pipeline lookup, so frames whose passes all replay recorded commands (Renderer(replay=))
    look nothing up: call reload_shaders() there."""
    pipelines = renderer.pipelines
    pipelines.watch = enabled
    pipelines.on_reload = getattr(renderer, "invalidate_recordings", None)
    # The frame being recorded, and the latest frame every slot has waited for.
    pipelines.frame_clock = lambda: (renderer.frame, renderer.frame - renderer.frames_in_flight - 1)
    pipelines._mtimes = pipelines.library.mtimes()


def _shaders_of(key: tuple) -> tuple:
    """The shader names in a pipeline cache key."""
    return (key[1],) if key[0] == "compute" else tuple(n for n in key[1:3] if n)


_READS = Access.SHADER_STORAGE_READ | Access.SHADER_SAMPLED_READ | Access.UNIFORM_READ | Access.SHADER_READ
_WRITES = Access.SHADER_STORAGE_WRITE | Access.SHADER_WRITE


def check_declared_access(pipeline: Pipeline, binding: int, accesses, *, pass_name: str, resource: str) -> None:
    """The pass's declared accesses of `resource` against what the shader's binding can do
    (SPIR-V NonReadable/NonWritable): a `writeonly` binding declared only as a read, or a
    `readonly` one declared only as a write, is an error naming the pass and the resource; a
    binding the shader may write (no `readonly`) declared only as a read warns once."""
    b = pipeline.bindings.get(binding)
    if b is None:
        return
    declared = 0
    for a in accesses:
        declared |= int(a.access)
    reads, writes = bool(declared & int(_READS)), bool(declared & int(_WRITES))
    what = f"binding {binding}{f' ({b.name})' if b.name else ''} of {pipeline.name!r}"
    if not b.readable and reads and not writes:
        raise FrameGraphError(f"{what} is writeonly in the shader, but the pass declares only a read: "
                              "declare a *_shader_write_storage access", pass_name=pass_name, resource=resource)
    if not b.writable and writes and not reads and b.type in (vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                              vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE):
        raise FrameGraphError(f"{what} is readonly in the shader, but the pass declares only a write: "
                              "declare a *_shader_read_storage access", pass_name=pass_name, resource=resource)
    if b.writable and reads and not writes:
        import warnings
        key = (pass_name, resource, pipeline.name, binding)
        if key not in _warned:
            _warned.add(key)
            warnings.warn(f"pass {pass_name!r}, resource {resource!r}: {what} may be written by the shader "
                          "(not `readonly`), but the pass declares only a read; mark it readonly or declare "
                          "the write", RuntimeWarning, stacklevel=3)


_warned: set = set()


class DescriptorArena:
    """Descriptor sets for one frame slot where push descriptors are unavailable: allocated from
    pools that are reset when the slot is reused (after its previous frame finished)."""

    SETS = 256
    PER_TYPE = 512

    def __init__(self, ctx, owner: Owner, name: str) -> None:
        self.ctx = ctx
        self.owner = owner
        self.name = name
        self.pools: list = []
        self.current = 0

    def _new_pool(self):
        sizes = [vk.VkDescriptorPoolSize(type=t, descriptorCount=self.PER_TYPE)
                 for t in IMAGE_DESCRIPTORS + BUFFER_DESCRIPTORS]
        pool = self.owner.create("VkDescriptorPool", vk.VkDescriptorPoolCreateInfo(
            maxSets=self.SETS, pPoolSizes=sizes), name=f"{self.name}.descriptors{len(self.pools)}")
        self.pools.append(pool)
        return pool

    def reset(self) -> None:
        for pool in self.pools:
            vk.vkResetDescriptorPool(self.ctx.device, pool, 0)
        self.current = 0

    def allocate(self, set_layout) -> Any:
        while True:
            if self.current == len(self.pools):
                self._new_pool()
            try:
                return vk.vkAllocateDescriptorSets(self.ctx.device, vk.VkDescriptorSetAllocateInfo(
                    descriptorPool=self.pools[self.current], pSetLayouts=[set_layout]))[0]
            except (vk.VkErrorOutOfPoolMemory, vk.VkErrorFragmentedPool):
                self.current += 1


_STAGE_NAMES = {vk.VK_SHADER_STAGE_VERTEX_BIT: "vertex", vk.VK_SHADER_STAGE_FRAGMENT_BIT: "fragment",
                vk.VK_SHADER_STAGE_COMPUTE_BIT: "compute"}


def _check_stage(name: str, info: ShaderInfo, stage: int, role: str, pass_name: str | None) -> None:
    """A shader in the place of another stage (a vertex shader for a compute pipeline) crashes the
    driver at pipeline creation rather than failing: refuse it by its entry point's stage."""
    if info.stage != stage:
        raise ShaderError(f"{name} is a {_STAGE_NAMES.get(info.stage, 'other-stage')} shader; {role} shader must be "
                          f"a {_STAGE_NAMES[stage]} one", pass_name=pass_name, file=name)
