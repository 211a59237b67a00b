"""Arena: a small playable prototype on the deferred renderer's frame, built with the game kit
(framegraph.backends.vulkan.kit).

    WASD        move the golden ball (the player, carrying a warm light), relative to the camera
    mouse       turn the camera (orbit); wheel: zoom
    SPACE/LMB   throw glowing projectiles: simulated on the async compute queue, each one a point light
    B           bloom on/off    G  G-buffer debug view on/off (the graph changes shape: plan cache)
    P           pause           F5 reload shaders   F12 screenshot   ESC quit

The frame: upload -> particles (queue="compute": projectiles step, fall and bounce; writes every
light of the frame) -> gbuffer (vertex input: the meshes' vertex buffer, and the lights as a
per-instance vertex buffer for their markers) -> SSAO (compute) -> two moon shadow cascades ->
lighting -> bloom (toggled) -> tonemap -> fxaa -> debug view (toggled) -> hud (text and bars: fps,
CPU and GPU ms per pass; its font in a descriptor set of its own).

With replay on (the default), the passes whose commands do not change from frame to frame re-submit
their recordings; the upload, the G-buffer (the player's matrix is a push constant) and the HUD (this
frame's quad count) are recorded every frame (they are `dynamic`, or write host data).

Run: python -m framegraph.samples.arena [--size WxH] [--script FILE] [--frames N] [--offscreen]
     [--out DIR] [--stats-json FILE] [--fixed-hud] [--replay all|off]
A script (JSON of timed key/mouse events, resizes and screenshots, see kit.Script) plays the game
frame-locked, so tests and benchmarks run it without a person.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from dataclasses import dataclass, field

import numpy as np

from framegraph.samples import common, deferred, shadow_map

try:
    from pyglm import glm
except ImportError:
    import glm

PARTICLES = 31                      # projectiles; the frame has PARTICLES + 1 lights (the player's first)
LIGHTS = PARTICLES + 1
MAX_SPAWNS = 4                      # shaders/arena_particles.comp
ARENA_UNIFORMS = 16 * (3 + 3 * MAX_SPAWNS)
PLAYER_SPEED = 6.0                  # units per second
PLAYER_RADIUS = 0.6
CAMERA_HEIGHT = 2.0                 # the camera looks above the player: it sits below the HUD
ARENA_RADIUS = 11.0
CENTRE_RADIUS = 1.2 + PLAYER_RADIUS  # common.default_scene's sphere at the origin, plus the player
FIRE_INTERVAL = 0.2                 # seconds between projectiles while the fire key is held
MARKER_RADIUS = 0.3
PLAYER_LIGHT = ((1.0, 0.78, 0.5), 3.0, 6.0)   # colour, intensity, radius


def _vertex_inputs():
    from framegraph.backends.vulkan.kit import VertexAttribute, VertexBinding, VertexInput

    mesh = VertexBinding(binding=0, stride=common.VERTEX_FLOATS * 4, attributes=(
        VertexAttribute(0, "R32G32B32A32_SFLOAT", 0), VertexAttribute(1, "R32G32B32A32_SFLOAT", 16)))
    lights = VertexBinding(binding=1, stride=common.LIGHT_FLOATS * 4, rate="instance", attributes=(
        VertexAttribute(2, "R32G32B32A32_SFLOAT", 0), VertexAttribute(3, "R32G32B32A32_SFLOAT", 16)))
    return VertexInput.of(mesh), VertexInput.of(mesh, lights)


@dataclass
class Arena:
    """The game's state and its frame. `update` is the fixed step, `on_frame` handles toggles and
    the camera, `prepare` puts the frame's data where its passes read it (FrameData: the uniforms,
    the spawns, the HUD's quads), `build` declares the frame, once per `shape` (the toggles), frame
    slot and size: the frame carries no per-frame data in its declaration."""
    renderer: object
    shadow_size: int = 1024
    fixed_hud: bool = False            # the HUD shows made-up timings (for reference screenshots)
    hud_scale: int = 1
    player: list = field(default_factory=lambda: [-4.0, 7.0])
    bloom: bool = True
    debug_view: bool = False
    cooldown: float = 0.0
    next_slot: int = 0
    shots: int = 0
    spawns: list = field(default_factory=list)
    camera: object = None

    def __post_init__(self) -> None:
        from framegraph.backends.vulkan import kit

        self.kit = kit
        self.camera = kit.OrbitCamera(target=(self.player[0], CAMERA_HEIGHT, self.player[1]), yaw=20.0, pitch=28.0,
                                      distance=13.0)
        dead = np.zeros((PARTICLES, 8), np.float32)
        dead[:, 3] = -1.0                                  # age < 0: not alive
        self.particles = self.renderer.create_buffer("particles", data=dead)
        self.hud = kit.Hud(self.renderer, scale=self.hud_scale)
        self.scene_input, self.marker_input = _vertex_inputs()
        sc = common.scene()
        self.mesh = {"vertices": self.renderer.create_buffer("vertices", data=sc.vertices, state="vertex_buffer",
                                                             uses=["vertex_shader_read_storage"]),
                     "indices": self.renderer.create_buffer("indices", data=sc.indices, state="index_buffer")}
        uniforms = self.frame_uniforms(0.0, (16, 9))
        self.data = {"frame": self.renderer.create_frame_data("frame", size=len(uniforms)),
                     "arena": self.renderer.create_frame_data("arena", size=ARENA_UNIFORMS)}

    def close(self) -> None:
        self.hud.close()

    # -- game logic ---------------------------------------------------------------------------
    def on_frame(self, loop) -> None:
        i = loop.input
        if i.pressed("P"):
            loop.paused = not loop.paused
        if i.pressed("B"):
            self.bloom = not self.bloom
        if i.pressed("G"):
            self.debug_view = not self.debug_view
        if not loop.paused:
            self.camera.update(i)

    def update(self, loop, dt: float) -> None:
        i = loop.input
        forward, right = self.camera.forward, self.camera.right
        ahead, side = i.axis("S", "W"), i.axis("A", "D")
        dx = (forward[0] * ahead + right[0] * side) * PLAYER_SPEED * dt
        dz = (forward[1] * ahead + right[1] * side) * PLAYER_SPEED * dt
        x, z = self.player[0] + dx, self.player[1] + dz
        r = math.hypot(x, z)
        if r > ARENA_RADIUS:                        # the ring of pillars fences the arena
            x, z = x * ARENA_RADIUS / r, z * ARENA_RADIUS / r
        elif r < CENTRE_RADIUS:                     # slide round the big sphere in the middle
            x, z = (x, z) if r > 1e-6 else (0.0, 1.0)
            r = max(r, 1e-6)
            x, z = x * CENTRE_RADIUS / r, z * CENTRE_RADIUS / r
        self.player = [x, z]
        self.camera.target = (x, CAMERA_HEIGHT, z)
        self.cooldown = max(0.0, self.cooldown - dt)
        if (i.down("SPACE") or i.down("MOUSE_LEFT")) and self.cooldown == 0.0 and len(self.spawns) < MAX_SPAWNS:
            self.cooldown = FIRE_INTERVAL
            hue = (self.shots * 0.61803398875) % 1.0
            velocity = (forward[0] * 7.0, 6.5, forward[1] * 7.0)
            self.spawns.append((self.next_slot, (x, 1.4, z), (*velocity, hue)))
            self.next_slot = (self.next_slot + 1) % PARTICLES
            self.shots += 1

    def arena_uniforms(self, loop) -> bytes:
        """shaders/arena_particles.comp's Arena block (std140: vec4s)."""
        color, intensity, radius = PLAYER_LIGHT
        x, z = self.player
        block = np.zeros((3 + 3 * MAX_SPAWNS, 4), np.float32)
        block[0] = (x, 2.2, z, radius)
        block[1] = (*color, intensity)
        block[2] = (loop.fixed_dt, loop.steps, len(self.spawns), PARTICLES)
        for k, (slot, position, velocity) in enumerate(self.spawns):
            block[3 + k] = (slot, 0, 0, 0)
            block[3 + MAX_SPAWNS + k] = (*position, 0)
            block[3 + 2 * MAX_SPAWNS + k] = velocity
        self.spawns = []
        return block.tobytes()

    def stats(self, loop):
        if not self.fixed_hud:
            return loop.stats
        # Stand-in timings, the same every run: what the reference screenshots show.
        names = ("gbuffer", "lighting", "ssao", "particles", "bloom_down0", "fxaa")
        return self.kit.FrameStats(frame=loop.frame, fps=60.0, cpu_ms=4.2, gpu_ms=7.5,
                                   passes=tuple((n, 0.3 * (k + 1)) for k, n in enumerate(names)))

    # -- the frame ----------------------------------------------------------------------------
    def frame_uniforms(self, time: float, extent) -> bytes:
        """shaders/scene.h's Frame block for this camera, aspect and time."""
        width, height = extent
        aspect = width / height
        camera = common.Camera(eye=self.camera.eye, target=self.camera.target)
        cascades = common.cascade_matrices(camera, aspect, deferred.MOON_DIR, splits=deferred.MOON_SPLITS,
                                           resolution=self.shadow_size)
        return common.frame_uniforms(camera, aspect, sun_dir=deferred.MOON_DIR, sun_color=deferred.MOON_COLOR,
                                     sun_intensity=0.4, ambient=0.3, cascades=cascades, shadow_size=self.shadow_size,
                                     normal_offsets=deferred.MOON_NORMAL_OFFSETS, light_count=LIGHTS, time=time)

    def shape(self, loop) -> tuple:
        """What the frame's declaration depends on (beyond its size): the toggles."""
        return (self.bloom, self.debug_view)

    def prepare(self, loop, frame) -> None:
        """This frame's data, once its size is known: uniforms, spawns, the HUD."""
        width, height = frame.extent
        self.data["frame"].set(self.frame_uniforms(loop.time, frame.extent))
        self.data["arena"].set(self.arena_uniforms(loop))
        lh = self.hud.line_height
        title = "PAUSED" if loop.paused else f"shots {self.shots}"
        flags = f"{'B' if self.bloom else '-'}{'G' if self.debug_view else '-'}"
        top = max(1, min(6, (height // 2) // lh - 2))      # the panel keeps to the upper half
        self.hud.stats(self.stats(loop), title=f"{title} {flags}", top=top, name_chars=9)
        if loop.paused:
            self.hud.text(width // 2 - 3 * 6 * self.hud.scale, height // 2 - lh // 2, "PAUSED", (1.0, 0.9, 0.3, 1.0))
        self.hud.publish()

    def player_push(self) -> bytes:
        """The player sphere's model matrix and material (its draw's push constants), as it is now."""
        return (glm.scale(glm.translate(glm.mat4(1.0), glm.vec3(self.player[0], PLAYER_RADIUS, self.player[1])),
                          glm.vec3(2 * PLAYER_RADIUS)).to_bytes()
                + np.array([0.95, 0.78, 0.25, 1.0, 0.3, 0.0, 0.15, 0.0], np.float32).tobytes())

    def build(self, fg, frame, loop):
        kit = self.kit
        width, height = frame.extent
        sc = common.scene()
        buffers = {k: b.use(fg) for k, b in self.mesh.items()}
        buffers.update({k: d.use(fg, frame) for k, d in self.data.items()})

        # Projectiles on the async compute queue: they also write every light of the frame.
        particles = self.particles.use(fg)
        lights = fg.create_buffer("lights", size=LIGHTS * common.LIGHT_FLOATS * 4)
        with fg.add_pass("particles", queue="compute") as p:
            p.reads(buffers["arena"], "compute_shader_read_uniform")
            particles = p.writes(particles, "compute_shader_write_storage")
            lights = p.writes(lights, "compute_shader_write_storage", discard=True)
            p.execute(lambda ctx: ctx.dispatch_threads(
                PARTICLES, pipeline=ctx.compute_pipeline("arena_particles.comp"),
                bindings={0: "arena", 1: "particles", 2: "lights"}))

        targets = deferred.gbuffer_targets(fg, width, height)
        with fg.add_pass("gbuffer") as p:
            p.reads(buffers["vertices"], "vertex_buffer")
            p.reads(buffers["indices"], "index_buffer")
            p.reads(buffers["frame"], "vertex_shader_read_uniform")
            p.reads(lights, "vertex_buffer")
            albedo, normal, material, depth = deferred.write_gbuffer(p, targets)

            def gbuffer(ctx):
                state = dict(depth_test=True, depth_write=True)
                with ctx.rendering(clear=(0.0, 0.0, 0.0, 0.0), clear_depth=1.0):
                    kit.bind_vertex_buffers(ctx, {0: "vertices"})
                    common.draw_instances(ctx, sc, ctx.graphics_pipeline(
                        "arena_scene.vert", "gbuffer.frag", vertex_input=self.scene_input, **state), {1: "frame"})
                    first, count, offset = sc.ranges["sphere"]
                    ctx.draw_indexed(count, 1, first, offset, push=self.player_push())   # where it is now
                    markers = ctx.graphics_pipeline("arena_markers.vert", "gbuffer.frag",
                                                    vertex_input=self.marker_input, **state)
                    kit.bind_vertex_buffers(ctx, {0: buffers["vertices"], 1: lights})   # handles or names
                    first, count, offset = sc.ranges["marker"]
                    ctx.draw_indexed(count, LIGHTS, first, offset, pipeline=markers, bindings={1: "frame"},
                                     push=[MARKER_RADIUS])
            # The player's model matrix is a push constant: under replay this pass records every frame.
            p.execute(kit.dynamic(gbuffer))

        ao = deferred.ssao(fg, depth, normal, buffers["frame"], width, height)
        shadow_mask = fg.create_image("shadow_mask", format=deferred.SHADOW_MASK_FORMAT, extent=(width, height))
        for c in range(len(deferred.MOON_SPLITS) - 1):
            cascade = fg.create_image(f"shadow_cascade{c}", format=shadow_map.SHADOW_FORMAT,
                                      extent=(self.shadow_size, self.shadow_size))
            cascade = shadow_map.shadow_pass(fg, f"shadow_cascade{c}", sc, buffers, cascade, c, layer=0)
            shadow_mask = deferred.project_cascade(fg, c, cascade, depth, normal, buffers["frame"], shadow_mask)

        hdr = fg.create_image("hdr", format=deferred.HDR_FORMAT, extent=(width, height))
        with fg.add_pass("lighting") as p:
            for image in (albedo, normal, material, depth, ao, shadow_mask):
                p.reads(image, "fragment_shader_read_sampled")
            p.reads(lights, "fragment_shader_read_storage")
            p.reads(buffers["frame"], "fragment_shader_read_uniform")
            hdr = p.writes(hdr, "color_attachment_write", discard=True)
            p.execute(deferred.fullscreen("deferred_light.frag", {
                0: ("albedo", "nearest"), 1: ("normal", "nearest"), 2: ("material", "nearest"),
                3: ("depth", "nearest"), 4: ("ao", "nearest"), 5: ("shadow_mask", "nearest"), 6: "lights", 7: "frame"}))

        ldr = fg.create_image("ldr", format=deferred.LDR_FORMAT, extent=(width, height))
        if self.bloom:
            bloom = deferred.bloom_chain(fg, hdr, width, height)
            with fg.add_pass("tonemap") as p:
                p.reads(hdr, "fragment_shader_read_sampled")
                p.reads(bloom, "fragment_shader_read_sampled", mips=(0, 1))
                ldr = p.writes(ldr, "color_attachment_write", discard=True)
                p.execute(deferred.fullscreen("tonemap.frag", {0: "hdr", 2: "bloom"}, list(deferred.TONEMAP)))
        else:
            # No bloom passes at all: the tonemap samples the HDR image twice, bloom strength 0.
            with fg.add_pass("tonemap") as p:
                p.reads(hdr, "fragment_shader_read_sampled")
                ldr = p.writes(ldr, "color_attachment_write", discard=True)
                p.execute(deferred.fullscreen("tonemap.frag", {0: "hdr", 2: "hdr"}, [deferred.TONEMAP[0], 0.0]))

        with fg.add_pass("fxaa") as p:
            p.reads(ldr, "fragment_shader_read_sampled")
            out = p.writes(frame.output, "color_attachment_write", discard=True)
            p.execute(deferred.fullscreen("fxaa.frag", {0: "ldr"}))

        if self.debug_view:
            debug = fg.create_image("debug", format=deferred.DEBUG_FORMAT,
                                    extent=(max(1, width // 2), max(1, height // 2)))
            with fg.add_pass("debug_view") as p:
                for image in (albedo, normal, ao, shadow_mask):
                    p.reads(image, "fragment_shader_read_sampled")
                debug = p.writes(debug, "color_attachment_write", discard=True)
                p.execute(deferred.fullscreen("debug_view.frag", {0: "albedo", 1: "normal", 2: "ao",
                                                                   3: ("shadow_mask", "nearest")}))
            with fg.add_pass("debug_composite") as p:
                p.reads(debug, "fragment_shader_read_sampled")
                out = p.writes(out, "color_attachment_write")
                p.execute(deferred.fullscreen("debug_composite.frag", {0: "debug"}))

        return self.hud.draw(fg, out, frame=frame)


def benchmark_summary(loop, *, warmup: int = 30) -> dict:
    """Medians over the frames after `warmup`: wall ms (and fps), CPU ms, GPU ms per frame."""
    rows = loop.history[warmup:] or loop.history
    wall = statistics.median(r[0] for r in rows)
    gpu = [r[2] for r in rows if r[2] is not None]
    return {"frames": len(rows), "fps": 1000.0 / wall if wall else None, "frame_ms": wall,
            "cpu_ms": statistics.median(r[1] for r in rows), "gpu_ms": statistics.median(gpu) if gpu else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=common.size_arg, default=None, metavar="WxH",
                    help="window size (default: the script's, else 960x540)")
    ap.add_argument("--script", help="play this input script (framegraph-input/1 JSON), frame-locked")
    ap.add_argument("--frames", type=common.at_least(1), default=None, help="stop after N frames (default: the script's, or never)")
    ap.add_argument("--offscreen", action="store_true", help="render offscreen (also FRAMEGRAPH_OFFSCREEN=1)")
    ap.add_argument("--out", default="out/arena", help="folder for screenshots (default: %(default)s)")
    ap.add_argument("--strategy", default="batched", choices=common.STRATEGIES)
    ap.add_argument("--shadow-size", type=common.at_least(1), default=1024)
    ap.add_argument("--hud-scale", type=common.at_least(1), default=None, help="HUD pixel scale (default: 1, 2 from 1280 wide)")
    ap.add_argument("--fixed-hud", action="store_true", help="HUD shows stand-in timings (repeatable images)")
    ap.add_argument("--stats-json", help="write fps, CPU and GPU ms per frame (medians) to this file")
    ap.add_argument("--replay", choices=("all", "off"), default="all",
                    help="re-submit the recordings of passes whose commands did not change (default: %(default)s)")
    args = ap.parse_args(argv)

    from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext, kit, make_target

    script = kit.Script.load(args.script) if args.script else None
    size = args.size or (script.size if script and script.size else (960, 540))
    if script is not None:
        script = script.scaled(size)
    with VulkanContext(app_name="arena") as ctx:
        target = make_target(*size, title="arena", offscreen=True if args.offscreen else None)
        if isinstance(target, OffscreenTarget):
            target = OffscreenTarget(*size, readback=False)     # screenshots read back only their frames
        replay = "all" if args.replay == "all" else False
        with Renderer(ctx, target, strategy=args.strategy, replay=replay) as renderer:
            game = Arena(renderer, shadow_size=args.shadow_size, fixed_hud=args.fixed_hud,
                         hud_scale=args.hud_scale or (2 if size[0] >= 1280 else 1))
            try:
                loop = kit.Loop(renderer, script=script, screenshot_dir=args.out, capture_mouse=script is None)
                loop.run(game.build, update=game.update, on_frame=game.on_frame, frames=args.frames,
                         prepare=game.prepare, shape=game.shape)
            finally:
                renderer.wait()
                game.close()
            compiles = renderer.compiles
    problems = ctx.messages.drain()
    for problem in problems:
        print(problem, file=sys.stderr)
    summary = benchmark_summary(loop)
    summary.update(device=ctx.device_name, size=list(size), compiles=compiles, validation_messages=len(problems),
                   screenshots=sorted(loop.screenshots))
    print(json.dumps(summary))
    if args.stats_json:
        from pathlib import Path
        Path(args.stats_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.stats_json).write_text(json.dumps({**summary, "history": loop.history}, indent=1))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
