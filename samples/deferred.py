"""Deferred sample: G-buffer, cascaded moon shadows in a screen-space mask, async-compute SSAO,
64 coloured point lights, bloom, tonemap, FXAA.

    upload             vertices, indices, the frame's uniforms and the lights' paths into transient buffers
    lights             (compute) every light's position at the frame's time, from its path  -> lights
    gbuffer            albedo, normal, material, depth; the scene and one small emissive sphere per light
    ssao               (queue="compute") ambient occlusion from depth and normals  -> ao_raw
    ssao_blur          (queue="compute") 4x4 box that removes SSAO's rotation pattern -> ao
    shadow_cascade<c>  depth from the moon (a dim directional light), one slice of the view
                       -> shadow_cascade<c> (a depth image of its own per cascade)
    shadow_project<c>  that cascade's PCF visibility for the pixels it covers       -> shadow_mask
    lighting           full-screen: moon (from the mask) with AO, every point light -> hdr
    bloom_down0..N-1   13-tap downsample: hdr -> bloom mip 0 (bright parts), mip i-1 -> mip i
    bloom_up N-2..0    tent upsample of mip i+1 blended into mip i
    tonemap            hdr + bloom, filmic curve, display gamma; luma in alpha        -> ldr
    fxaa               edge-directed anti-aliasing                                    -> output
    debug_view         the G-buffer in four tiles -> debug; culled unless --debug-view adds
    debug_composite    which draws it into the output's lower right quarter

Every intermediate is a transient, and the frame is shaped so that few of them live at once: each
shadow cascade is projected into the screen-space mask right after it is drawn (as Unity's and
Unreal's deferred paths do), so a cascade's depth map dies before the next is drawn and the lighting
pass reads a one-byte mask instead of the maps; the raw AO dies at its blur; the G-buffer dies at
lighting, and the post chain (bloom, ldr) reuses its memory. With aliasing on (the default), the
compiler places them in shared heaps (`python -m framegraph compile` prints the savings).

The bloom chain runs over the mips of one image: each pass reads one mip and writes the next, so its
barriers name single mips (mip-granular barriers). SSAO runs on the compute queue while the
graphics queue draws the shadow cascades; the lighting pass waits for both.
Run: python samples/deferred.py [--size WxH] [--frames N] [--strategy S] [--window] [--out PNG]
     [--debug-view] [--lights N]
"""
from __future__ import annotations

import colorsys
import functools
import math
import sys
from typing import NamedTuple

import numpy as np

from framegraph.samples import common, shadow_map

ALBEDO_FORMAT = "R8G8B8A8_UNORM"
NORMAL_FORMAT = "R16G16B16A16_SFLOAT"
MATERIAL_FORMAT = "R8G8B8A8_UNORM"
DEPTH_FORMAT = "D32_SFLOAT"
HDR_FORMAT = "R16G16B16A16_SFLOAT"
AO_FORMAT = "R8G8B8A8_UNORM"           # rgba8: storage, sampling and linear filtering are all mandatory
SHADOW_MASK_FORMAT = "R8_UNORM"        # r8: colour attachment and sampling are mandatory
LDR_FORMAT = "R8G8B8A8_UNORM"
DEBUG_FORMAT = "R8G8B8A8_UNORM"
MOON_DIR = (0.45, 0.8, -0.35)
MOON_COLOR = (0.55, 0.65, 1.0)
MOON_SPLITS = (0.1, 12.0, 40.0)        # view distances where the two cascades begin and end
MOON_NORMAL_OFFSETS = (0.04, 0.08)     # per cascade, world units: against acne
SHADOW_SIZE = 2048                     # texels per cascade side (the tests use smaller maps)
MARKER_RADIUS = 0.3
BLOOM_MIPS = 5
BLOOM_THRESHOLD = (1.0, 0.5)           # threshold, soft knee
BLOOM_UP_WEIGHT = 0.65                 # how much of the wider blur each up pass takes
TONEMAP = (0.55, 4.0)                  # exposure, bloom strength
SSAO = (0.6, 1.5)                      # radius (world units), strength (exponent)
LIGHT_PATH_FLOATS = 20                 # shaders/move_lights.comp LightPath: five vec4 a light


def light_data(count: int, t: float) -> np.ndarray:
    """`count` point lights (shaders/scene.h PointLight) on rings around the middle of the scene,
    coloured round the hue circle, orbiting with time: what the "lights" pass computes on the GPU
    from light_paths (shaders/move_lights.comp), worked out on the host (the tests compare)."""
    layout = _light_layout(count)
    lights = layout.lights.copy()
    lights[:, :3] = (np.sin(layout.angle + layout.rate * t) * layout.scale + layout.offset).T
    return lights


class _LightLayout(NamedTuple):
    """Light n at time t: position[i] = sin(angle[i, n] + rate[i, n] * t) * scale[i, n] + offset[i]."""
    angle: np.ndarray         # (3, count)
    rate: np.ndarray          # (3, count)
    scale: np.ndarray         # (3, count)
    offset: np.ndarray        # (3, 1)
    lights: np.ndarray        # (count, LIGHT_FLOATS): range, colour and intensity filled in


@functools.lru_cache(maxsize=8)
def _light_layout(count: int) -> _LightLayout:
    """What does not move. Light n is on ring n % 4 (radius r), at place n // 4 on it, turning one
    way on even rings and the other on odd ones, outer rings slower: its angle is
    a = phase + rate * t, its position (r cos a, 0.6 + 0.25 sin(3a + ring), r sin a). Colours go
    round the hue circle (colorsys)."""
    rings = (2.3, 4.0, 5.6, 8.6)
    i = np.arange(count)
    ring = i % len(rings)
    phase = 2 * math.pi * (i // len(rings) + 0.5 * ring) / math.ceil(count / len(rings))
    rate = np.where(ring % 2 == 0, 1.0, -1.0) * 0.4 / (1 + ring)
    radius = np.array(rings)[ring]
    lights = np.zeros((count, common.LIGHT_FLOATS), np.float32)
    for n in range(count):
        lights[n, 3:] = (1.9, *colorsys.hsv_to_rgb((n * 0.61803398875) % 1.0, 0.85, 1.0), 1.6)
    return _LightLayout(angle=np.stack([phase + math.pi / 2, 3 * phase + ring, phase]),
                        rate=np.stack([rate, 3 * rate, rate]),
                        scale=np.stack([radius, np.full(count, 0.25), radius]),
                        offset=np.array([[0.0], [0.6], [0.0]]), lights=lights)


@functools.lru_cache(maxsize=8)
def light_paths(count: int) -> bytes:
    """The lights' paths as the "lights" pass reads them (move_lights.comp LightPath: angle and
    radius, rate, scale, offset, colour and intensity). Only the time changes from frame to frame,
    and it is in the Frame block: the paths are written once."""
    layout = _light_layout(count)
    paths = np.zeros((count, LIGHT_PATH_FLOATS // 4, 4), np.float32)
    paths[:, 0, :3], paths[:, 0, 3] = layout.angle.T, layout.lights[:, 3]
    paths[:, 1, :3] = layout.rate.T
    paths[:, 2, :3] = layout.scale.T
    paths[:, 3, :3] = layout.offset.T
    paths[:, 4] = layout.lights[:, 4:]
    return paths.tobytes()


def bloom_mips(width: int, height: int) -> int:
    """Mips of the half-resolution bloom image, down to no less than 4 texels."""
    smallest = min(width, height) // 2
    return max(1, min(BLOOM_MIPS, int(math.log2(max(smallest, 4))) - 1))


def frame_data(extent, *, lights: int = 64, shadow_size: int = SHADOW_SIZE, camera: common.Camera | None = None,
               t: float = 0.0) -> bytes:
    """What changes from frame to frame: the Frame uniform block at time `t` (the lights move on the
    GPU, from their paths and this time). Its matrices are worked out again only when the camera,
    size or settings change."""
    width, height = extent
    block = _frame_block((camera or common.Camera()).key(), width / height, lights, shadow_size)
    return common.with_time(block, t)


@functools.lru_cache(maxsize=16)
def _frame_block(camera: tuple, aspect: float, lights: int, shadow_size: int) -> bytes:
    camera = common.Camera(*camera)
    cascades = common.cascade_matrices(camera, aspect, MOON_DIR, splits=MOON_SPLITS, resolution=shadow_size)
    return common.frame_uniforms(camera, aspect, sun_dir=MOON_DIR, sun_color=MOON_COLOR, sun_intensity=0.4,
                                 ambient=0.3, cascades=cascades, shadow_size=shadow_size,
                                 normal_offsets=MOON_NORMAL_OFFSETS, light_count=lights, time=0.0)


def build(fg, frame, *, lights: int = 64, debug_view: bool = False, shadow_size: int = SHADOW_SIZE,
          camera: common.Camera | None = None, time: float | None = None):
    """Declare one frame into `fg`, its data uploaded by the frame's first pass; returns the final
    handle of `frame.output`."""
    sc = common.scene()
    data = frame_data(frame.extent, lights=lights, shadow_size=shadow_size, camera=camera,
                      t=common.frame_time(frame, time))
    # A buffer has at least one light's bytes; the shaders read `lights` of them.
    buffers = common.declare_upload(fg, {"vertices": sc.vertices.tobytes(), "indices": sc.indices.tobytes(),
                                         "frame": data, "light_paths": light_paths(max(1, lights))})
    return declare(fg, frame, buffers, lights=lights, debug_view=debug_view, shadow_size=shadow_size)


class DeclaredOnce:
    """The same frame with its data outside the commands, so it can be declared once per frame slot
    and replayed: the scene's vertices and indices and the lights' paths in persistent buffers, the
    uniforms in FrameData (a mapped buffer per frame slot), no upload pass.

        frame = deferred.DeclaredOnce(renderer)
        while running:                                       # the uniforms (and time) set per frame
            renderer.render(frame.build, redeclare=False, prepare=frame.prepare)
    """

    def __init__(self, renderer, *, lights: int = 64, debug_view: bool = False, shadow_size: int = SHADOW_SIZE,
                 camera: common.Camera | None = None) -> None:
        sc = common.scene()
        self.renderer = renderer
        self.lights, self.debug_view, self.shadow_size = lights, debug_view, shadow_size
        self.camera = camera or common.Camera()
        self.mesh = {"vertices": renderer.create_buffer("vertices", data=sc.vertices,
                                                        state="vertex_shader_read_storage"),
                     "indices": renderer.create_buffer("indices", data=sc.indices, state="index_buffer"),
                     "light_paths": renderer.create_buffer("light_paths", data=light_paths(max(1, lights)),
                                                           state="compute_shader_read_storage")}
        self.data = {"frame": renderer.create_frame_data("frame", size=common.FRAME_UNIFORMS)}

    def update(self, t: float, extent=None) -> None:
        """This frame's uniforms at time `t` (extent: the target's, by default)."""
        extent = extent or self.renderer.target.extent
        self.data["frame"].set(frame_data(extent, lights=self.lights, shadow_size=self.shadow_size,
                                          camera=self.camera, t=t))

    def prepare(self, frame, time: float | None = None) -> None:
        """Renderer.render's `prepare`: update() for this frame's extent, at `time` (default: the
        frame index at 30 frames a second, as build() animates)."""
        self.update(common.frame_time(frame, time), frame.extent)

    def build(self, fg, frame):
        buffers = {k: b.use(fg) for k, b in self.mesh.items()}
        buffers.update({k: d.use(fg, frame) for k, d in self.data.items()})
        return declare(fg, frame, buffers, lights=self.lights, debug_view=self.debug_view,
                       shadow_size=self.shadow_size)


def declare(fg, frame, buffers: dict, *, lights: int = 64, debug_view: bool = False, shadow_size: int = SHADOW_SIZE):
    """Every pass after the data: `buffers` holds the handles of vertices, indices, frame and
    light_paths."""
    width, height = frame.extent
    sc = common.scene()
    buffers = {**buffers, "lights": move_lights(fg, buffers, lights)}

    # G-buffer: the scene's instances, then the light markers (instanced, positions from the lights).
    targets = gbuffer_targets(fg, width, height)
    with fg.add_pass("gbuffer") as p:
        common.reads_mesh(p, buffers)
        p.reads(buffers["frame"], "vertex_shader_read_uniform")
        p.reads(buffers["lights"], "vertex_shader_read_storage")
        albedo, normal, material, depth = write_gbuffer(p, targets)

        def gbuffer(ctx):
            state = dict(depth_test=True, depth_write=True)
            with ctx.rendering(clear=(0.0, 0.0, 0.0, 0.0), clear_depth=1.0):
                common.draw_instances(ctx, sc, ctx.graphics_pipeline("scene.vert", "gbuffer.frag", **state),
                                      {0: "vertices", 1: "frame"})
                first, count, offset = sc.ranges["marker"]
                ctx.draw_indexed(count, lights, first, offset,
                                 pipeline=ctx.graphics_pipeline("markers.vert", "gbuffer.frag", **state),
                                 bindings={0: "vertices", 1: "frame", 3: "lights"}, push=[MARKER_RADIUS])
        p.execute(gbuffer)

    ao = ssao(fg, depth, normal, buffers["frame"], width, height)

    shadow_mask = fg.create_image("shadow_mask", format=SHADOW_MASK_FORMAT, extent=(width, height))
    for c in range(len(MOON_SPLITS) - 1):
        cascade = fg.create_image(f"shadow_cascade{c}", format=shadow_map.SHADOW_FORMAT,
                                  extent=(shadow_size, shadow_size))
        cascade = shadow_map.shadow_pass(fg, f"shadow_cascade{c}", sc, buffers, cascade, c, layer=0)
        shadow_mask = project_cascade(fg, c, cascade, depth, normal, buffers["frame"], shadow_mask)

    hdr = fg.create_image("hdr", format=HDR_FORMAT, extent=(width, height))
    with fg.add_pass("lighting") as p:
        for image in (albedo, normal, material, depth, ao, shadow_mask):
            p.reads(image, "fragment_shader_read_sampled")
        p.reads(buffers["lights"], "fragment_shader_read_storage")
        p.reads(buffers["frame"], "fragment_shader_read_uniform")
        hdr = p.writes(hdr, "color_attachment_write", discard=True)
        p.execute(fullscreen("deferred_light.frag", {
            0: ("albedo", "nearest"), 1: ("normal", "nearest"), 2: ("material", "nearest"), 3: ("depth", "nearest"),
            4: ("ao", "nearest"), 5: ("shadow_mask", "nearest"), 6: "lights", 7: "frame"}))

    bloom = bloom_chain(fg, hdr, width, height)

    ldr = fg.create_image("ldr", format=LDR_FORMAT, extent=(width, height))
    with fg.add_pass("tonemap") as p:
        p.reads(hdr, "fragment_shader_read_sampled")
        p.reads(bloom, "fragment_shader_read_sampled", mips=(0, 1))
        ldr = p.writes(ldr, "color_attachment_write", discard=True)
        p.execute(fullscreen("tonemap.frag", {0: "hdr", 2: "bloom"}, list(TONEMAP)))

    with fg.add_pass("fxaa") as p:
        p.reads(ldr, "fragment_shader_read_sampled")
        out = p.writes(frame.output, "color_attachment_write", discard=True)
        p.execute(fullscreen("fxaa.frag", {0: "ldr"}))

    # Always declared; nothing reads `debug` unless the composite is, so the compiler culls it.
    debug = fg.create_image("debug", format=DEBUG_FORMAT, extent=(max(1, width // 2), max(1, height // 2)))
    with fg.add_pass("debug_view") as p:
        for image in (albedo, normal, ao, shadow_mask):
            p.reads(image, "fragment_shader_read_sampled")
        debug = p.writes(debug, "color_attachment_write", discard=True)
        p.execute(fullscreen("debug_view.frag", {0: "albedo", 1: "normal", 2: "ao", 3: ("shadow_mask", "nearest")}))
    if debug_view:
        with fg.add_pass("debug_composite") as p:
            p.reads(debug, "fragment_shader_read_sampled")
            out = p.writes(out, "color_attachment_write")
            p.execute(fullscreen("debug_composite.frag", {0: "debug"}))
    return out


def move_lights(fg, buffers: dict, lights: int):
    """Pass `lights`: every light at the Frame block's time, from its path; returns the handle of
    the transient buffer of PointLights it writes (at least one light's bytes)."""
    count = max(1, lights)
    out = fg.create_buffer("lights", size=count * common.LIGHT_FLOATS * 4)
    with fg.add_pass("lights") as p:
        p.reads(buffers["light_paths"], "compute_shader_read_storage")
        p.reads(buffers["frame"], "compute_shader_read_uniform")
        out = p.writes(out, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: ctx.dispatch_threads(count, pipeline=ctx.compute_pipeline("move_lights.comp"),
                                                   bindings={0: "light_paths", 1: "frame", 2: "lights"}))
    return out


def gbuffer_targets(fg, width: int, height: int) -> tuple:
    """The G-buffer's transients: (albedo, normal, material, depth)."""
    return (fg.create_image("albedo", format=ALBEDO_FORMAT, extent=(width, height)),
            fg.create_image("normal", format=NORMAL_FORMAT, extent=(width, height)),
            fg.create_image("material", format=MATERIAL_FORMAT, extent=(width, height)),
            fg.create_image("depth", format=DEPTH_FORMAT, extent=(width, height)))


def write_gbuffer(p, targets) -> tuple:
    """A G-buffer pass's writes: every target cleared (discard) and written; the new handles."""
    albedo, normal, material, depth = targets
    return (p.writes(albedo, "color_attachment_write", discard=True),
            p.writes(normal, "color_attachment_write", discard=True),
            p.writes(material, "color_attachment_write", discard=True),
            p.writes(depth, "depth_attachment_write", discard=True))


def ssao(fg, depth, normal, frame_uniforms, width: int, height: int):
    """SSAO and its blur on the compute queue; returns the blurred AO's handle."""
    ao_raw = fg.create_image("ao_raw", format=AO_FORMAT, extent=(width, height))
    with fg.add_pass("ssao", queue="compute") as p:
        p.reads(depth, "compute_shader_read_sampled")
        p.reads(normal, "compute_shader_read_sampled")
        p.reads(frame_uniforms, "compute_shader_read_uniform")
        ao_raw = p.writes(ao_raw, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: ctx.dispatch_threads(
            width, height, pipeline=ctx.compute_pipeline("ssao.comp"), push=list(SSAO),
            bindings={0: ("depth", "nearest"), 1: ("normal", "nearest"), 2: "ao_raw", 3: "frame"}))
    ao = fg.create_image("ao", format=AO_FORMAT, extent=(width, height))
    with fg.add_pass("ssao_blur", queue="compute") as p:
        p.reads(ao_raw, "compute_shader_read_sampled")
        ao = p.writes(ao, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: ctx.dispatch_threads(
            width, height, pipeline=ctx.compute_pipeline("ssao_blur.comp"), bindings={0: "ao_raw", 1: "ao"}))
    return ao


def project_cascade(fg, c: int, cascade, depth, normal, frame_uniforms, shadow_mask):
    """Pass `shadow_project<c>`: cascade `c`'s visibility into the mask for the pixels it covers
    (cascade 0 writes every pixel, the others load the mask and write theirs); returns the mask."""
    with fg.add_pass(f"shadow_project{c}") as p:
        p.reads(cascade, "fragment_shader_read_sampled")
        p.reads(depth, "fragment_shader_read_sampled")
        p.reads(normal, "fragment_shader_read_sampled")
        p.reads(frame_uniforms, "fragment_shader_read_uniform")
        shadow_mask = p.writes(shadow_mask, "color_attachment_write", discard=(c == 0))
        p.execute(fullscreen("shadow_project.frag", {0: ("depth", "nearest"), 1: ("normal", "nearest"),
                                                      2: (f"shadow_cascade{c}", "shadow"), 3: "frame"}, [c]))
    return shadow_mask


def bloom_chain(fg, hdr, width: int, height: int):
    """The down/up chain over the mips of one half-resolution image; returns its final handle."""
    size = (max(1, width // 2), max(1, height // 2))
    mips = bloom_mips(width, height)
    bloom = fg.create_image("bloom", format=HDR_FORMAT, extent=size, mips=mips)

    def extent(mip):
        return max(1, size[0] >> mip), max(1, size[1] >> mip)

    for i in range(mips):
        source = (width, height) if i == 0 else extent(i - 1)
        push = [1.0 / source[0], 1.0 / source[1], *(BLOOM_THRESHOLD if i == 0 else (0.0, 0.0))]
        with fg.add_pass(f"bloom_down{i}") as p:
            if i == 0:
                p.reads(hdr, "fragment_shader_read_sampled")
            else:
                p.reads(bloom, "fragment_shader_read_sampled", mips=(i - 1, 1))
            bloom = p.writes(bloom, "color_attachment_write", mips=(i, 1), discard=True)
            p.execute(fullscreen("bloom_down.frag", {0: "hdr" if i == 0 else "bloom"}, push))
    for i in range(mips - 2, -1, -1):
        source = extent(i + 1)
        with fg.add_pass(f"bloom_up{i}") as p:
            p.reads(bloom, "fragment_shader_read_sampled", mips=(i + 1, 1))
            bloom = p.writes(bloom, "color_attachment_read_write", mips=(i, 1))
            p.execute(fullscreen("bloom_up.frag", {0: "bloom"}, [1.0 / source[0], 1.0 / source[1], BLOOM_UP_WEIGHT],
                                  blend=True))
    return bloom


def fullscreen(fragment: str, bindings: dict, push=None, **state):
    """A pass's record callback: one full-screen triangle with `fragment` into its attachments."""
    def record(ctx):
        with ctx.rendering():
            ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", fragment, **state),
                     bindings=bindings, push=push)
    return record


def build_graph(width: int = 1280, height: int = 720, **params):
    """The frame as a FrameGraph, declared without a device (for export and visualisation)."""
    return common.build_graph(build, "deferred", width=width, height=height, **params)


def main(argv: list[str] | None = None) -> int:
    ap = common.parser(__doc__.splitlines()[0], out="out/deferred.png")
    ap.add_argument("--debug-view", action="store_true", help="show the G-buffer in the lower right quarter")
    ap.add_argument("--lights", type=common.at_least(0), default=64, help="point lights (default: %(default)s)")
    args = ap.parse_args(argv)
    return common.run(build, args, title="deferred", lights=args.lights, debug_view=args.debug_view)


if __name__ == "__main__":
    sys.exit(main())
