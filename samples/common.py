"""Scaffolding shared by the shadow-map and deferred samples: procedural meshes and a scene of a few
instances, a camera and the per-frame uniform block (pyglm), the upload pass that brings them to the
GPU through the graph, and the command line every sample takes.

Nothing here records barriers or owns Vulkan objects: the samples declare passes, the compiler
places the barriers, the backend records. Importing this module does not load Vulkan.
"""
from __future__ import annotations

import argparse
import functools
import math
import struct
import sys
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

try:
    from pyglm import glm        # PyGLM >= 2.8; plain `import glm` is deprecated there
except ImportError:
    import glm

STRATEGIES = ("naive", "per_resource", "batched", "split")
VERTEX_FLOATS = 8           # shaders/scene.h Vertex: vec4 position (xyz, u), vec4 normal (xyz, v)
FRAME_UNIFORMS = 320        # shaders/scene.h Frame, std140
FRAME_TIME = 268            # offset of Frame.camera_pos.w, the time in seconds
LIGHT_FLOATS = 8            # shaders/scene.h PointLight: vec4 position (xyz, radius), vec4 colour (rgb, intensity)


# -- meshes ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Mesh:
    vertices: np.ndarray    # (n, VERTEX_FLOATS) float32
    indices: np.ndarray     # (m,) uint32, counter-clockwise triangles seen from outside


def _mesh(positions, normals, uvs, indices) -> Mesh:
    v = np.zeros((len(positions), VERTEX_FLOATS), np.float32)
    v[:, 0:3] = positions
    v[:, 3] = np.asarray(uvs)[:, 0]
    v[:, 4:7] = normals
    v[:, 7] = np.asarray(uvs)[:, 1]
    return Mesh(v, np.asarray(indices, np.uint32).ravel())


def plane(size: float = 1.0) -> Mesh:
    """A square in the xz plane facing +y."""
    h = size / 2
    pos = [(-h, 0, -h), (-h, 0, h), (h, 0, h), (h, 0, -h)]
    return _mesh(pos, [(0, 1, 0)] * 4, [(0, 0), (0, 1), (1, 1), (1, 0)], [0, 1, 2, 0, 2, 3])


def cube(size: float = 1.0) -> Mesh:
    """A cube centred on the origin, flat normals (four vertices per face)."""
    h = size / 2
    positions, normals, uvs, indices = [], [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            n = np.zeros(3)
            n[axis] = sign
            u = np.zeros(3)
            u[(axis + 1) % 3] = 1.0
            w = np.cross(n, u)
            base = len(positions)
            for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                positions.append((n + a * u + b * w) * h)
                normals.append(n)
                uvs.append(((a + 1) / 2, (b + 1) / 2))
            indices += [base, base + 1, base + 2, base, base + 2, base + 3]
    return _mesh(positions, normals, uvs, indices)


def sphere(radius: float = 0.5, rings: int = 16, segments: int = 24) -> Mesh:
    """A UV sphere centred on the origin."""
    theta = np.linspace(0, math.pi, rings + 1)[:, None]
    phi = np.linspace(0, 2 * math.pi, segments + 1)[None, :]
    n = np.stack([np.sin(theta) * np.cos(phi), np.cos(theta) * np.ones_like(phi),
                  np.sin(theta) * np.sin(phi)], axis=-1).reshape(-1, 3)
    uv = np.stack(np.meshgrid(np.linspace(0, 1, segments + 1), np.linspace(0, 1, rings + 1)), -1).reshape(-1, 2)
    indices = []
    row = segments + 1
    for r in range(rings):
        for s in range(segments):
            a, b = r * row + s, (r + 1) * row + s
            indices += [a, a + 1, b, a + 1, b + 1, b]
    return _mesh(n * radius, n, uv, indices)


# -- scene -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Instance:
    mesh: str
    model: glm.mat4
    albedo: tuple[float, float, float]
    roughness: float = 0.6
    checker: bool = False

    def push(self) -> bytes:
        """shaders/scene.vert's push constants: model, albedo, material."""
        material = np.array([self.roughness, 0.0, 0.0, 1.0 if self.checker else 0.0], np.float32)
        return self.model.to_bytes() + np.array([*self.albedo, 1.0], np.float32).tobytes() + material.tobytes()


@dataclass
class Scene:
    """Meshes packed into one vertex and one index buffer, and the instances drawn from them."""
    meshes: dict[str, Mesh]
    instances: list[Instance]
    ranges: dict[str, tuple[int, int, int]] = field(init=False)   # name -> first index, count, vertex offset
    vertices: np.ndarray = field(init=False)
    indices: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.ranges = {}
        first = offset = 0
        for name, mesh in self.meshes.items():
            self.ranges[name] = (first, len(mesh.indices), offset)
            first += len(mesh.indices)
            offset += len(mesh.vertices)
        self.vertices = np.concatenate([m.vertices for m in self.meshes.values()])
        self.indices = np.concatenate([m.indices for m in self.meshes.values()])
        self.pushes = [i.push() for i in self.instances]

    @property
    def vertex_bytes(self) -> int:
        return self.vertices.nbytes

    @property
    def index_bytes(self) -> int:
        return self.indices.nbytes


def _model(position, scale=(1.0, 1.0, 1.0), yaw_degrees: float = 0.0) -> glm.mat4:
    m = glm.translate(glm.mat4(1.0), glm.vec3(*position))
    m = glm.rotate(m, glm.radians(yaw_degrees), glm.vec3(0, 1, 0))
    return glm.scale(m, glm.vec3(*scale))


def default_scene() -> Scene:
    """A checkered floor, a ring of pillars, boxes and spheres: shapes that cast readable shadows."""
    inst = [Instance("plane", _model((0, 0, 0), (28, 1, 28)), (0.75, 0.74, 0.70), 0.9, checker=True),
            Instance("sphere", _model((0, 1.2, 0), (2.4, 2.4, 2.4)), (0.85, 0.35, 0.25), 0.25),
            Instance("cube", _model((-3.2, 0.75, 1.6), (1.5, 1.5, 1.5), 25), (0.30, 0.55, 0.85), 0.5),
            Instance("cube", _model((3.0, 0.5, 2.4), (2.6, 1.0, 1.0), -15), (0.85, 0.75, 0.30), 0.7),
            Instance("cube", _model((2.2, 1.0, -2.8), (1.0, 2.0, 1.0), 40), (0.35, 0.75, 0.40), 0.6),
            Instance("sphere", _model((-1.6, 0.45, 3.6), (0.9, 0.9, 0.9)), (0.90, 0.90, 0.92), 0.15),
            Instance("sphere", _model((4.6, 0.6, -0.4), (1.2, 1.2, 1.2)), (0.55, 0.35, 0.80), 0.35)]
    for k in range(8):
        a = 2 * math.pi * k / 8 + 0.3
        inst.append(Instance("cube", _model((7.0 * math.cos(a), 1.6, 7.0 * math.sin(a)), (0.5, 3.2, 0.5),
                                            math.degrees(-a)), (0.62, 0.60, 0.58), 0.8))
    # "marker": a low-polygon sphere for small things drawn many times (the deferred sample's lights).
    return Scene({"plane": plane(), "cube": cube(), "sphere": sphere(), "marker": sphere(rings=6, segments=8)}, inst)


_SCENE: Scene | None = None


def scene() -> Scene:
    """The default scene, built once per process (it is constant)."""
    global _SCENE
    if _SCENE is None:
        _SCENE = default_scene()
    return _SCENE


# -- camera and uniforms ---------------------------------------------------------------------
@dataclass
class Camera:
    eye: tuple[float, float, float] = (10.5, 7.5, 12.0)
    target: tuple[float, float, float] = (0.0, 0.6, 0.0)
    fov_degrees: float = 45.0
    near: float = 0.1
    far: float = 80.0

    def key(self) -> tuple:
        """Everything the matrices depend on, hashable: what the per-frame memos below key on."""
        return (tuple(self.eye), tuple(self.target), self.fov_degrees, self.near, self.far)

    def view(self) -> glm.mat4:
        return glm.lookAtRH(glm.vec3(*self.eye), glm.vec3(*self.target), glm.vec3(0, 1, 0))

    def projection(self, aspect: float, near: float | None = None, far: float | None = None) -> glm.mat4:
        """Vulkan clip space: depth 0..1, y down (row 0 of the image is the top)."""
        p = glm.perspectiveRH_ZO(glm.radians(self.fov_degrees), aspect, near or self.near, far or self.far)
        p[1][1] *= -1.0
        return p


def cascade_matrices(camera: Camera, aspect: float, sun_dir, splits=(0.1, 9.0, 40.0), resolution: int = 1024):
    """Light view-projections for shadow cascades: each covers the bounding sphere of one slice of the
    camera frustum (so its size does not swim as the camera turns), snapped to whole shadow texels.

    Worked out again only when the camera, aspect, sun or splits change (a frame that replays its
    commands would otherwise spend most of its CPU here); the matrices returned are the caller's."""
    return [glm.mat4(m) for m in _cascades(camera.key(), aspect, tuple(sun_dir), tuple(splits), resolution)]


@functools.lru_cache(maxsize=32)
def _cascades(camera: tuple, aspect: float, sun_dir: tuple, splits: tuple, resolution: int) -> tuple:
    camera = Camera(*camera)
    inv_view = glm.inverse(camera.view())
    light_dir = glm.normalize(glm.vec3(*sun_dir))
    matrices = []
    for near, far in zip(splits, splits[1:]):
        inv = inv_view * glm.inverse(camera.projection(aspect, near, far))
        corners = []
        for x in (-1, 1):
            for y in (-1, 1):
                for z in (0, 1):
                    c = inv * glm.vec4(x, y, z, 1)
                    corners.append(glm.vec3(c) / c.w)
        center = sum(corners, glm.vec3(0)) / len(corners)
        radius = max(glm.length(c - center) for c in corners)
        radius = math.ceil(radius * 16) / 16
        depth = radius + 30.0           # casters up to 30 units behind the slice still land in the map
        view = glm.lookAtRH(center + light_dir * depth, center, glm.vec3(0, 1, 0))
        proj = glm.orthoRH_ZO(-radius, radius, -radius, radius, 0.0, depth + radius)
        # Snap the origin to the texel grid: moving the camera moves the map by whole texels.
        origin = proj * view * glm.vec4(0, 0, 0, 1)
        texel = 2.0 / resolution
        offset = glm.vec2(round(origin.x / texel) * texel - origin.x, round(origin.y / texel) * texel - origin.y)
        snap = glm.translate(glm.mat4(1.0), glm.vec3(offset.x, offset.y, 0.0))
        matrices.append(snap * proj * view)
    return tuple(matrices)


def frame_uniforms(camera: Camera, aspect: float, *, sun_dir, sun_color, sun_intensity: float, ambient: float,
                   cascades, shadow_size: int, normal_offsets=(0.02, 0.06), light_count: int = 0,
                   time: float = 0.0) -> bytes:
    """shaders/scene.h's Frame block (std140: column-major mat4s, vec4s)."""
    view_proj = camera.projection(aspect) * camera.view()
    cascades = list(cascades) + [glm.mat4(1.0)] * (2 - len(cascades))
    d = glm.normalize(glm.vec3(*sun_dir))
    vectors = struct.pack("16f", *camera.eye, time, d.x, d.y, d.z, sun_intensity, *sun_color, ambient,
                          1.0 / shadow_size, normal_offsets[0], normal_offsets[1], float(light_count))
    data = (view_proj.to_bytes() + glm.inverse(view_proj).to_bytes() + cascades[0].to_bytes()
            + cascades[1].to_bytes() + vectors)
    assert len(data) == FRAME_UNIFORMS
    return data


def with_time(uniforms: bytes, time: float) -> bytes:
    """A Frame block (frame_uniforms) with its time replaced: a frame whose camera did not move
    needs nothing else made again."""
    return uniforms[:FRAME_TIME] + struct.pack("f", time) + uniforms[FRAME_TIME + 4:]


def frame_time(frame, time: float | None) -> float:
    """Animation time: given, else the frame index at 30 frames a second (so renders are repeatable)."""
    return float(frame.index) / 30.0 if time is None else float(time)


# -- declaring ---------------------------------------------------------------------------------
def declare_upload(fg, data: dict[str, bytes], *, name: str = "upload") -> dict:
    """Transient buffers filled from the host this frame, in one transfer pass; returns their handles.

    Every frame uploads again through the frame's staging ring (a few tens of KiB here), so the data
    and the barriers that publish it to the shaders come from the graph like everything else."""
    handles = {key: fg.create_buffer(key, size=len(raw)) for key, raw in data.items()}
    with fg.add_pass(name) as p:
        for key in data:
            handles[key] = p.writes(handles[key], "transfer_write", discard=True)

        def upload(ctx):
            for key, raw in data.items():
                ctx.upload(key, raw)
        p.execute(upload)
    return handles


def reads_mesh(p, handles: dict) -> None:
    """Declare a pass's reads of the scene's vertices (pulled in the vertex shader) and indices."""
    p.reads(handles["vertices"], "vertex_shader_read_storage")
    p.reads(handles["indices"], "index_buffer")


def draw_instances(ctx, sc: Scene, pipeline, bindings: dict, push=None) -> None:
    """One indexed draw per instance; `push(instance, default_bytes)` may replace its push constants."""
    ctx.bind_pipeline(pipeline)
    ctx.bind(bindings)
    ctx.bind_index_buffer("indices")
    for inst, data in zip(sc.instances, sc.pushes):
        first, count, offset = sc.ranges[inst.mesh]
        ctx.draw_indexed(count, 1, first, offset, push=data if push is None else push(inst, data))


def offline_frame(fg, width: int, height: int, *, swapchain: bool = True):
    """A stand-in for the renderer's FrameInfo, so a sample's frame can be declared with no device:
    the output is imported as a window's swapchain image (or an offscreen image)."""
    if swapchain:
        out = fg.import_image("swapchain", format="B8G8R8A8_UNORM", extent=(width, height), swapchain=True)
    else:
        out = fg.import_image("output", format="R8G8B8A8_UNORM", extent=(width, height), final="transfer_read")
    return SimpleNamespace(index=0, slot=0, time=0.0, extent=(width, height), output=out,
                           format="VK_FORMAT_B8G8R8A8_UNORM" if swapchain else "VK_FORMAT_R8G8B8A8_UNORM",
                           image_index=0, extra={})


def build_graph(build, name: str, *, width: int, height: int, swapchain: bool = True, **params):
    """Declare one frame of `build` without a device; returns the FrameGraph (outputs marked)."""
    from framegraph import FrameGraph

    fg = FrameGraph(name)
    frame = offline_frame(fg, width, height, swapchain=swapchain)
    fg.output(build(fg, frame, **params))
    return fg


# -- running -----------------------------------------------------------------------------------
def size_arg(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 512x512, got {text!r}") from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError("width and height must be positive")
    return width, height


def at_least(minimum: int):
    """An argparse type for a count on the command line (--frames, --lights, sizes): a whole
    number, `minimum` or more, else argparse's usage error (exit code 2)."""
    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
        return value
    return count


def parser(description: str, *, out: str, size=(512, 512), frames: int = 3) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--size", type=size_arg, default=size, metavar="WxH", help="default: %(default)s")
    ap.add_argument("--frames", type=at_least(0), default=frames,
                    help="frames to render (default: %(default)s; 0 with --window: until it is closed)")
    ap.add_argument("--strategy", default="batched", choices=STRATEGIES)
    ap.add_argument("--window", action="store_true", help="present to a GLFW window (unless FRAMEGRAPH_OFFSCREEN=1)")
    ap.add_argument("--out", default=out, help="PNG of the last frame when offscreen (default: %(default)s)")
    return ap


def render_offscreen(ctx, build, *, size=(128, 128), frames: int = 3, strategy: str = "batched",
                     on_compile=None, device=None, each_frame: bool = False, **params):
    """Render `frames` frames of `build(fg, frame, **params)` offscreen. Returns the read-back HxWx4
    uint8 arrays (every frame's with `each_frame`, else the last one's) and the GPU times per pass of
    the last finished frame. `device`: a device profile for Renderer(device=...)."""
    from functools import partial

    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    images = []
    target = OffscreenTarget(*size)
    with Renderer(ctx, target, strategy=strategy, on_compile=on_compile, device=device) as renderer:
        step = partial(build, **params)
        for _ in range(frames):
            renderer.render(step)
            if each_frame:
                images.append(target.read())
        if not each_frame:
            images.append(target.read())
        renderer.wait()
        times = dict(renderer.last_gpu_times_ms)
    return images, times


def run(build, args, *, title: str, **params) -> int:
    """A sample's main loop: offscreen (default; writes --out) or a window; exit status 1 if the
    validation layer reported anything."""
    from functools import partial

    from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext, make_target

    frames = args.frames
    with VulkanContext(app_name=title) as ctx:
        target = make_target(*args.size, title=title, offscreen=None if args.window else True)
        offscreen = isinstance(target, OffscreenTarget)
        if offscreen and frames < 1:
            frames = 1
        with Renderer(ctx, target, strategy=args.strategy) as renderer:
            step = partial(build, **params)
            rendered = 0
            while (frames <= 0 or rendered < frames) and (offscreen or not target.should_close()):
                renderer.render(step)
                rendered += 1
            renderer.wait()
            times = dict(renderer.last_gpu_times_ms)
            plan = renderer.last_plan
            if offscreen:
                print(target.save_png(args.out))
    problems = ctx.messages.drain()
    for problem in problems:
        print(problem, file=sys.stderr)
    if plan is not None:
        s = plan.stats
        print(f"{title} ({args.strategy}): {s['passes']} passes, {len(plan.culled)} culled, "
              f"{s['barrier_calls']} barrier calls, {s['events']} events, {s['semaphore_waits']} semaphore waits",
              file=sys.stderr)
    if times:
        print("gpu ms: " + ", ".join(f"{k}={v:.3f}" for k, v in times.items()), file=sys.stderr)
    return 1 if problems else 0
