"""A small kit for game prototypes on the Renderer: a frame loop with a fixed-timestep update and
delta time, keyboard/mouse state (live from GLFW or replayed from a JSON input script), an orbit
camera, window screenshots (the swapchain image of a chosen frame, read back through the graph),
shader hot reload on a key, vertex buffers and long-lived descriptor sets for pass callbacks, and a
HUD of text and bars drawn by a pass with a small bitmap font.

Nothing here synchronizes by itself: everything the GPU touches is declared in the frame's graph.
A scripted run is frame-locked (every frame advances the game by exactly `fixed_dt`), so the same
script renders the same frames on any machine; a live run follows the wall clock.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import vulkan as vk
from vulkan import ffi, lib

from framegraph.errors import FrameGraphError, expect_int
from framegraph.graph import Handle

from .owner import Owner
from .pipelines import Pipeline, VertexAttribute, VertexBinding, VertexInput
from .recorder import _name, dynamic
from .resources import warn_once
from .targets import save_png

try:
    from pyglm import glm
except ImportError:          # PyGLM < 2.8
    import glm

__all__ = ["Input", "Script", "ScriptError", "Loop", "FrameStats", "OrbitCamera", "bind_vertex_buffers",
           "DescriptorSets", "BitmapFont", "Hud", "hud_pass", "VertexAttribute", "VertexBinding", "VertexInput",
           "run"]


# -- input -------------------------------------------------------------------------------------------
def _glfw_names() -> tuple[dict, dict]:
    import glfw

    keys = {getattr(glfw, n): n[4:] for n in dir(glfw) if n.startswith("KEY_") and n != "KEY_UNKNOWN"}
    buttons = {glfw.MOUSE_BUTTON_LEFT: "MOUSE_LEFT", glfw.MOUSE_BUTTON_RIGHT: "MOUSE_RIGHT",
               glfw.MOUSE_BUTTON_MIDDLE: "MOUSE_MIDDLE"}
    return keys, buttons


class Input:
    """Keyboard and mouse state. Keys are GLFW's names without `KEY_` ("W", "SPACE", "F5",
    "LEFT_SHIFT"); mouse buttons are "MOUSE_LEFT", "MOUSE_RIGHT", "MOUSE_MIDDLE".

    `down(k)` is the held state; `pressed(k)`/`released(k)` are this frame's edges, and
    `mouse_delta`/`scroll` this frame's motion: the frame hook and every fixed update of the frame
    see them (toggle things in the frame hook, where an edge is seen once). Events collect until
    `begin_frame()` makes them the frame's, so none is lost whenever the window delivers it; a
    press and release within one frame still count as a press."""

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.mouse = (0.0, 0.0)
        self.mouse_delta = (0.0, 0.0)
        self.scroll = 0.0
        self._pressed: set[str] = set()
        self._released: set[str] = set()
        self._next = ([], [], [0.0, 0.0], [0.0])        # pressed, released, motion, scroll

    def key(self, name: str, down: bool) -> None:
        name = name.upper()
        if down and name not in self.held:
            self.held.add(name)
            self._next[0].append(name)
        elif not down and name in self.held:
            self.held.discard(name)
            self._next[1].append(name)

    def move(self, dx: float, dy: float) -> None:
        self.mouse = (self.mouse[0] + dx, self.mouse[1] + dy)
        self._next[2][0] += dx
        self._next[2][1] += dy

    def cursor(self, x: float, y: float, *, first: bool = False) -> None:
        if not first:
            self.move(x - self.mouse[0], y - self.mouse[1])
        self.mouse = (x, y)

    def wheel(self, dy: float) -> None:
        self._next[3][0] += dy

    def begin_frame(self) -> None:
        """The events collected since the previous call become this frame's edges and motion."""
        pressed, released, motion, scroll = self._next
        self._pressed, self._released = set(pressed), set(released)
        self.mouse_delta, self.scroll = (motion[0], motion[1]), scroll[0]
        self._next = ([], [], [0.0, 0.0], [0.0])

    def down(self, name: str) -> bool:
        return name.upper() in self.held

    def pressed(self, name: str) -> bool:
        return name.upper() in self._pressed

    def released(self, name: str) -> bool:
        return name.upper() in self._released

    def axis(self, negative: str, positive: str) -> float:
        """-1, 0 or 1 from two held keys (e.g. axis("S", "W"))."""
        return float(self.down(positive)) - float(self.down(negative))

    def attach(self, window) -> None:
        """Feed this from a GLFW window's callbacks (a live run)."""
        import glfw

        keys, buttons = _glfw_names()
        first = [True]

        def on_key(_w, key, _scancode, action, _mods):
            if key in keys and action in (glfw.PRESS, glfw.RELEASE):
                self.key(keys[key], action == glfw.PRESS)

        def on_button(_w, button, action, _mods):
            if button in buttons:
                self.key(buttons[button], action == glfw.PRESS)

        def on_cursor(_w, x, y):
            self.cursor(x, y, first=first[0])
            first[0] = False

        def on_scroll(_w, _dx, dy):
            self.wheel(dy)

        # Kept on the object: GLFW holds only what the binding keeps alive.
        self._callbacks = (on_key, on_button, on_cursor, on_scroll)
        glfw.set_key_callback(window, on_key)
        glfw.set_mouse_button_callback(window, on_button)
        glfw.set_cursor_pos_callback(window, on_cursor)
        glfw.set_scroll_callback(window, on_scroll)


# -- input scripts -------------------------------------------------------------------------------------
SCRIPT_FORMAT = "framegraph-input/1"


class ScriptError(ValueError):
    """A malformed input script; the message names the event."""


@dataclass(frozen=True)
class ScriptEvent:
    frame: int
    kind: str            # "key", "mouse", "scroll", "resize", "screenshot", "quit"
    value: Any


@dataclass(frozen=True)
class Script:
    """Timed input for a frame-locked run: what happens at which frame.

        {"format": "framegraph-input/1", "frames": 300, "size": [160, 120], "events": [
          {"frame": 10, "key": "W", "action": "press"},      # also "release", "tap" (press, release next frame)
          {"frame": 30, "mouse": [40, -8]},                  # relative motion in pixels
          {"frame": 31, "scroll": 1},
          {"frame": 120, "resize": [200, 150]},
          {"frame": 150, "screenshot": "after_resize"},
          {"frame": 299, "quit": true}]}
    """
    events: tuple[ScriptEvent, ...] = ()
    frames: int | None = None
    size: tuple[int, int] | None = None

    @staticmethod
    def load(path) -> "Script":
        text = Path(path).read_text()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ScriptError(f"{path}: not JSON: {error}") from None
        return Script.parse(data, where=str(path))

    @staticmethod
    def parse(data: dict, *, where: str = "script") -> "Script":
        if not isinstance(data, dict) or data.get("format") != SCRIPT_FORMAT:
            raise ScriptError(f"{where}: expected an object with \"format\": \"{SCRIPT_FORMAT}\"")

        def whole(value, what, low=0):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ScriptError(f"{where}: {what} must be an integer >= {low}, got {value!r}")
            return value

        def pair(value, what, number=(int,), low=1):
            if (not isinstance(value, list) or len(value) != 2
                    or not all(isinstance(v, number) and not isinstance(v, bool) for v in value)
                    or any(v < low for v in value if low is not None)):
                raise ScriptError(f"{where}: {what} must be a pair of numbers, got {value!r}")
            return tuple(value)

        frames = None if data.get("frames") is None else whole(data["frames"], "frames", 1)
        size = None if data.get("size") is None else pair(data["size"], "size")
        events = []
        raw = data.get("events", [])
        if not isinstance(raw, list):
            raise ScriptError(f"{where}: events must be a list")
        for i, e in enumerate(raw):
            what = f"events[{i}]"
            if not isinstance(e, dict):
                raise ScriptError(f"{where}: {what} must be an object")
            frame = whole(e.get("frame"), f"{what}.frame")
            kinds = [k for k in ("key", "mouse", "scroll", "resize", "screenshot", "quit") if k in e]
            if len(kinds) != 1:
                raise ScriptError(f"{where}: {what} needs exactly one of key, mouse, scroll, resize, screenshot, "
                                  f"quit (got {sorted(e)})")
            kind = kinds[0]
            value = e[kind]
            if kind == "key":
                action = e.get("action", "tap")
                if not isinstance(value, str) or action not in ("press", "release", "tap"):
                    raise ScriptError(f"{where}: {what}: key is a name and action press|release|tap")
                if action == "tap":
                    events += [ScriptEvent(frame, "key", (value.upper(), True)),
                               ScriptEvent(frame + 1, "key", (value.upper(), False))]
                    continue
                value = (value.upper(), action == "press")
            elif kind == "mouse":
                value = pair(value, f"{what}.mouse", (int, float), None)
            elif kind == "scroll":
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ScriptError(f"{where}: {what}.scroll must be a number")
            elif kind == "resize":
                value = pair(value, f"{what}.resize")
            elif kind == "screenshot" and not isinstance(value, str):
                raise ScriptError(f"{where}: {what}.screenshot is a name")
            events.append(ScriptEvent(frame, kind, value))
        events.sort(key=lambda e: e.frame)       # stable: same-frame events keep their order
        return Script(events=tuple(events), frames=frames, size=size)

    def scaled(self, size) -> "Script":
        """The same script played at another window size: resizes scale by size / self.size (so a
        script written at 160x120 resizes in proportion at 1920x1080)."""
        if self.size is None or tuple(size) == tuple(self.size):
            return self
        sx, sy = size[0] / self.size[0], size[1] / self.size[1]
        events = tuple(ScriptEvent(e.frame, e.kind, (max(1, round(e.value[0] * sx)), max(1, round(e.value[1] * sy))))
                       if e.kind == "resize" else e for e in self.events)
        return Script(events=events, frames=self.frames, size=(int(size[0]), int(size[1])))

    def at(self, frame: int) -> list[ScriptEvent]:
        return [e for e in self.events if e.frame == frame]


# -- the frame loop --------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrameStats:
    """What the HUD shows: frames per second (wall clock, averaged over the last frames), CPU ms of
    the loop's thread per frame (thread CPU time: update, declare, record, submit; not waits), and
    GPU ms of the latest finished frame, in all and per pass."""
    frame: int = 0
    fps: float = 0.0
    cpu_ms: float = 0.0
    gpu_ms: float | None = None
    passes: tuple[tuple[str, float], ...] = ()


class Loop:
    """Runs a game: per frame, input (live or scripted), hot keys, `on_frame(loop)`, zero or more
    fixed-timestep `update(loop, dt)` calls (none while `paused`), then one Renderer.render of
    `build(fg, frame, loop)`.

    Live: `dt` is the wall-clock time since the previous frame and updates run at `fixed_dt` from an
    accumulator (`alpha` is the fraction of a step left over, for interpolation). Scripted: every
    frame is exactly one step (`dt == fixed_dt`), so a script replays identically anywhere.
    Hot keys (None turns one off): `quit_key`, `reload_key` (Renderer.reload_shaders; a compile error
    is printed and the old pipelines stay), `screenshot_key` (saves to `screenshot_dir`)."""

    def __init__(self, renderer, *, fixed_dt: float = 1 / 60, script: Script | None = None, max_steps: int = 5,
                 screenshot_dir=None, quit_key: str | None = "ESCAPE", reload_key: str | None = "F5",
                 screenshot_key: str | None = "F12", capture_mouse: bool = False, stats_frames: int = 30) -> None:
        if fixed_dt <= 0:
            raise ValueError("fixed_dt must be positive")
        self.renderer = renderer
        self.target = renderer.target
        self.fixed_dt = float(fixed_dt)
        self.script = script
        self.max_steps = max_steps
        self.screenshot_dir = None if screenshot_dir is None else Path(screenshot_dir)
        self.quit_key, self.reload_key, self.screenshot_key = quit_key, reload_key, screenshot_key
        self.input = Input()
        self.frame = 0               # frames run by this loop
        self.time = 0.0              # game time: fixed steps taken * fixed_dt
        self.dt = self.fixed_dt
        self.steps = 0
        self.alpha = 0.0
        self.paused = False
        self.running = True
        self.stats = FrameStats()
        self.history: list[tuple[float, float, float | None]] = []   # (wall ms, CPU ms, GPU ms) per frame
        self.screenshots: dict[str, np.ndarray] = {}
        self.reloaded: list[str] = []
        self._requests: list[str] = []
        self._declares: dict = {}           # (build, shape) -> the function rendered for it (step)
        self._accumulator = 0.0
        self._walls: list[float] = []
        window = getattr(self.target, "window", None)
        self._live = script is None and window is not None
        self._glfw = None
        if self._live:
            import glfw

            self._glfw = glfw
            self.input.attach(window)
            if capture_mouse:
                glfw.set_input_mode(window, glfw.CURSOR, glfw.CURSOR_DISABLED)

    @property
    def scripted(self) -> bool:
        return self.script is not None

    def screenshot(self, name: str) -> None:
        """Read back this frame's output image (the swapchain image, for a window) after its last
        pass; it lands in `screenshots[name]` (HxWx4 RGBA uint8, alpha 255) and, with
        screenshot_dir, a PNG."""
        self._requests.append(name)

    def resize(self, width: int, height: int) -> None:
        """Resize the window (or the offscreen image); the next frame declares the new size."""
        set_size = getattr(self.target, "set_size", None)
        if set_size is not None:
            set_size(width, height)
        else:
            self.target.resize(width, height)

    def _scripted_input(self) -> None:
        for event in self.script.at(self.frame):
            if event.kind == "key":
                self.input.key(*event.value)
            elif event.kind == "mouse":
                self.input.move(*event.value)
            elif event.kind == "scroll":
                self.input.wheel(event.value)
            elif event.kind == "resize":
                self.resize(*event.value)
            elif event.kind == "screenshot":
                self.screenshot(event.value)
            elif event.kind == "quit":
                self.running = False

    def _hot_keys(self) -> None:
        i = self.input
        if self.quit_key and i.pressed(self.quit_key):
            self.running = False
        if self.screenshot_key and i.pressed(self.screenshot_key):
            self.screenshot(f"frame{self.frame:06d}")
        if self.reload_key and i.pressed(self.reload_key):
            try:
                self.reloaded = self.renderer.reload_shaders()
                print(f"reloaded shaders: {', '.join(self.reloaded) or 'none changed'}")
            except FrameGraphError as error:         # ShaderError: keep playing on the old pipelines
                print(f"shader reload failed, keeping the old pipelines: {error}")

    def step(self, build: Callable, *, update: Callable | None = None, on_frame: Callable | None = None,
             prepare: Callable | None = None, shape: Callable | None = None) -> None:
        """One frame of the loop (run() calls it until the game stops).

        `prepare(loop, frame)` runs after the updates, once the renderer has begun the frame
        (Renderer.render's `prepare`: `frame.extent` is this frame's): where a game whose frame is
        declared once sets its per-frame data (FrameData, the HUD's `publish()`).
        `shape(loop)`: a hashable key of everything the frame's declaration depends on (toggles);
        given it, `build` runs only for a new shape (per frame slot, size and swapchain image) and
        the frame declared then is rendered again (`render(..., redeclare=False)`); frames with a
        screenshot are declared afresh."""
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        if self._walls:
            self.dt = self.fixed_dt if self.scripted else min(wall0 - self._walls[-1], 0.25)
        if self.scripted:
            self._scripted_input()
        elif self._live:
            self._glfw.poll_events()            # the window's events up to now (callbacks feed input)
        self.input.begin_frame()
        self._hot_keys()
        if on_frame is not None:
            on_frame(self)
        if self.paused:
            self.steps, self._accumulator = 0, 0.0
        elif self.scripted:
            self.steps = 1
        else:
            self._accumulator += self.dt
            self.steps = min(int(self._accumulator / self.fixed_dt), self.max_steps)
            self._accumulator = min(self._accumulator - self.steps * self.fixed_dt, self.fixed_dt)
        for _ in range(self.steps):
            if update is not None:
                update(self, self.fixed_dt)
            self.time += self.fixed_dt
        self.alpha = 0.0 if self.scripted else self._accumulator / self.fixed_dt
        per_frame = None if prepare is None else (lambda frame: prepare(self, frame))
        requests, self._requests = self._requests, []
        futures = {}

        # An offscreen target that reads back every frame already copies the output out.
        offscreen = getattr(self.target, "readback", False) is True and hasattr(self.target, "read")

        def declare(fg, frame):
            out = build(fg, frame, self)
            if not offscreen:
                for name in requests:
                    futures[name] = self.renderer.readback(fg, out, pass_name=f"screenshot.{name}")
            return out

        if shape is not None and not requests:
            key = (build, shape(self))
            declare_once = self._declares.get(key)
            if declare_once is None:       # one function per shape: the renderer keys its frames by it
                declare_once = self._declares[key] = lambda fg, frame: build(fg, frame, self)
            info = self.renderer.render(declare_once, redeclare=False, prepare=per_frame)
        else:
            info = self.renderer.render(declare, prepare=per_frame)
        cpu_ms = (time.thread_time() - cpu0) * 1e3
        if offscreen:
            futures = {name: self.target.read(info.index) for name in requests}
        for name, future in futures.items():
            image = np.array(future if offscreen else future.result())
            # What the window shows: the swapchain is composited opaque, whatever its alpha holds
            # (the HUD's blend writes coverage there, tonemap writes luma for FXAA).
            image[..., 3] = 255
            self.screenshots[name] = image
            if self.screenshot_dir is not None:
                save_png(image, self.screenshot_dir / f"{name}.png")
        wall1 = time.perf_counter()
        self._walls = (self._walls + [wall1])[-31:]
        fps = (len(self._walls) - 1) / (self._walls[-1] - self._walls[0]) if len(self._walls) > 1 else 0.0
        gpu = self.renderer.last_gpu_frame_ms
        self.history.append(((wall1 - wall0) * 1e3, cpu_ms, gpu))
        self.stats = FrameStats(frame=self.frame, fps=fps, cpu_ms=cpu_ms, gpu_ms=gpu,
                                passes=tuple(self.renderer.last_gpu_times_ms.items()))
        self.frame += 1

    def run(self, build: Callable, *, update: Callable | None = None, on_frame: Callable | None = None,
            frames: int | None = None, prepare: Callable | None = None, shape: Callable | None = None) -> "Loop":
        """Frames until `frames` (default: the script's), the quit key, or the window is closed
        (`prepare`, `shape`: see step())."""
        frames = frames if frames is not None else (self.script.frames if self.script else None)
        should_close = getattr(self.target, "should_close", None)
        while self.running and (frames is None or self.frame < frames):
            if should_close is not None and should_close():
                break
            self.step(build, update=update, on_frame=on_frame, prepare=prepare, shape=shape)
        self.renderer.wait()
        return self


def run(renderer, build: Callable, *, update: Callable | None = None, on_frame: Callable | None = None,
        frames: int | None = None, **options) -> Loop:
    """`Loop(renderer, **options).run(build, update=..., on_frame=..., frames=...)`."""
    return Loop(renderer, **options).run(build, update=update, on_frame=on_frame, frames=frames)


# -- camera --------------------------------------------------------------------------------------
@dataclass
class OrbitCamera:
    """A third-person camera orbiting `target`: mouse motion turns it (yaw, pitch in degrees),
    the scroll wheel zooms. `forward`/`right` are its ground-plane directions, for moving a player
    relative to the view. Mutable: it is game state, updated every frame."""
    target: tuple[float, float, float] = (0.0, 0.6, 0.0)
    yaw: float = 45.0
    pitch: float = 30.0
    distance: float = 14.0
    sensitivity: float = 0.25       # degrees per pixel
    pitch_limits: tuple[float, float] = (5.0, 80.0)
    distance_limits: tuple[float, float] = (3.0, 40.0)
    fov_degrees: float = 45.0
    near: float = 0.1
    far: float = 80.0

    def update(self, input: Input) -> None:
        dx, dy = input.mouse_delta
        self.yaw = (self.yaw + dx * self.sensitivity) % 360.0
        self.pitch = min(max(self.pitch + dy * self.sensitivity, self.pitch_limits[0]), self.pitch_limits[1])
        if input.scroll:
            self.distance = min(max(self.distance * 0.9 ** input.scroll, self.distance_limits[0]),
                                self.distance_limits[1])

    @property
    def eye(self) -> tuple[float, float, float]:
        yaw, pitch = math.radians(self.yaw), math.radians(self.pitch)
        x, y, z = self.target
        return (x + self.distance * math.cos(pitch) * math.sin(yaw), y + self.distance * math.sin(pitch),
                z + self.distance * math.cos(pitch) * math.cos(yaw))

    @property
    def forward(self) -> tuple[float, float]:
        """Unit (x, z) on the ground, from the eye towards the target."""
        yaw = math.radians(self.yaw)
        return (-math.sin(yaw), -math.cos(yaw))

    @property
    def right(self) -> tuple[float, float]:
        f = self.forward
        return (-f[1], f[0])

    def view(self):
        return glm.lookAtRH(glm.vec3(*self.eye), glm.vec3(*self.target), glm.vec3(0, 1, 0))

    def projection(self, aspect: float):
        """Vulkan clip space: depth 0..1, y down."""
        p = glm.perspectiveRH_ZO(glm.radians(self.fov_degrees), aspect, self.near, self.far)
        p[1][1] *= -1.0
        return p


# -- recording helpers -------------------------------------------------------------------------------
def _declared(ctx, name: str, bits):
    """The pass's first declared access of `name` (a resource name) with any of `bits`."""
    for access in ctx.accesses:
        if access.resource == name and access.access & bits:
            return access
    return None


def bind_vertex_buffers(ctx, buffers: dict[int, str | Handle]) -> None:
    """Bind `{binding: resource name or Handle}` as vertex buffers in a pass callback: each must be
    declared by the pass as a `vertex_buffer` read (its declared range's offset is where binding starts)."""
    from framegraph.vk import Access

    most = ctx.vulkan.properties.limits.maxVertexInputBindings - 1
    for binding, name in sorted(buffers.items()):
        name = _name(name)
        expect_int(binding, "binding", 0, most, pass_name=ctx.name, resource=name)
        access = _declared(ctx, name, Access.VERTEX_ATTRIBUTE_READ)
        if access is None:
            raise FrameGraphError("bound as a vertex buffer, but the pass declares no vertex_buffer read of it",
                                  pass_name=ctx.name, resource=name)
        lib.vkCmdBindVertexBuffers(ctx.cmd, binding, 1, ffi.new("VkBuffer[1]", [ctx.buffer(name).handle]),
                                   ffi.new("VkDeviceSize[1]", [access.range[0]]))


_SET_POOL = (vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, vk.VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE,
             vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE, vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER,
             vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER)


class DescriptorSets:
    """Descriptor sets numbered 1 and up, for resources that outlive frames (a font atlas, material
    textures, a persistent particle buffer): written once per distinct content and bound again every
    frame. Set 0 stays the pass's own (PassContext.bind). The resources are named as in
    PassContext.bind and must be declared by the pass; an image's layout is its declared access's.
    A set is never rewritten (a frame in flight may use it): new content gets a new set."""

    def __init__(self, renderer, *, name: str = "kit.sets", max_sets: int = 64) -> None:
        max_sets = expect_int(max_sets, "max_sets", 1, 1 << 20)
        self.renderer = renderer
        self.owner = Owner(renderer.ctx)
        self.pool = self.owner.create("VkDescriptorPool", vk.VkDescriptorPoolCreateInfo(
            maxSets=max_sets, pPoolSizes=[vk.VkDescriptorPoolSize(type=t, descriptorCount=max_sets)
                                          for t in _SET_POOL]), name=f"{name}.pool")
        self._sets: dict[tuple, Any] = {}

    def _value(self, ctx, b, value):
        from framegraph.vk import Access

        sampler = "linear"
        if isinstance(value, tuple):
            value, sampler = value
        value = _name(value)
        if b.type in (vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER, vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER):
            bits = Access.UNIFORM_READ if b.type == vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER else (
                Access.SHADER_STORAGE_READ | Access.SHADER_STORAGE_WRITE)
            access = _declared(ctx, value, bits)
            if access is None:
                raise FrameGraphError(f"set binding {b.binding} needs a shader access of it the pass declares",
                                      pass_name=ctx.name, resource=value)
            return ("buffer", ctx.buffer(value).handle, access.range[0], access.range[1])
        access = next((a for a in ctx.accesses if a.resource == value and a.layout is not None), None)
        if access is None:
            raise FrameGraphError(f"set binding {b.binding} needs an image access of it the pass declares",
                                  pass_name=ctx.name, resource=value)
        view = ctx.image(value).view(access.mips, access.layers)
        handle = (self.renderer.pipelines.sampler(sampler)
                  if b.type == vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER else None)
        return ("image", view, int(access.layout), handle)

    def bind(self, ctx, pipeline: Pipeline, set: int, bindings: dict) -> Any:
        """Bind set number `set` of `pipeline` with `{binding: name or Handle | (name or Handle,
        sampler)}`; returns it."""
        if set < 1 or set not in pipeline.sets:
            raise FrameGraphError(f"pipeline {pipeline.name!r} has no descriptor set {set} (sets 1.. only: "
                                  "set 0 is PassContext.bind's)", pass_name=ctx.name)
        layout = pipeline.set_layouts[set]
        declared = pipeline.sets[set]
        missing = sorted(declared.keys() - bindings.keys())
        if missing:
            raise FrameGraphError(f"set {set} of {pipeline.name!r}: bindings {missing} not given",
                                  pass_name=ctx.name)
        values = tuple((k, self._value(ctx, declared[k], bindings[k])) for k in sorted(declared))
        key = (layout, values)
        descriptor_set = self._sets.get(key)
        if descriptor_set is None:
            descriptor_set = vk.vkAllocateDescriptorSets(self.renderer.ctx.device, vk.VkDescriptorSetAllocateInfo(
                descriptorPool=self.pool, pSetLayouts=[layout]))[0]
            writes = []
            for binding, value in values:
                kind = declared[binding].type
                if value[0] == "image":
                    info = vk.VkDescriptorImageInfo(sampler=value[3], imageView=value[1], imageLayout=value[2])
                    writes.append(vk.VkWriteDescriptorSet(dstSet=descriptor_set, dstBinding=binding,
                                                          descriptorCount=1, descriptorType=kind, pImageInfo=[info]))
                else:
                    info = vk.VkDescriptorBufferInfo(buffer=value[1], offset=value[2], range=value[3])
                    writes.append(vk.VkWriteDescriptorSet(dstSet=descriptor_set, dstBinding=binding,
                                                          descriptorCount=1, descriptorType=kind, pBufferInfo=[info]))
            vk.vkUpdateDescriptorSets(self.renderer.ctx.device, len(writes), writes, 0, None)
            self._sets[key] = descriptor_set
        vk.vkCmdBindDescriptorSets(ctx.cmd, pipeline.bind_point, pipeline.layout, set, 1, [descriptor_set], 0, None)
        if ctx._sets_bound is None:             # for the pass context's check at each draw and dispatch
            ctx._sets_bound = {}
        ctx._sets_bound[set] = pipeline.layout
        return descriptor_set

    def close(self) -> None:
        """Destroy the pool (and its sets); after the frames that used them have finished."""
        self._sets.clear()
        self.owner.close()


# -- HUD -------------------------------------------------------------------------------------------
# Pillow's built-in bitmap font (ImageFont.load_default_imagefont()), ASCII 32..126 in 6x11 cells,
# one byte per row (bit 5 = leftmost pixel): a table, so text looks the same with any Pillow.
_FONT_HEX = (
    "000000000000000000000000000018181818001800000000001414140000000000000014143e14143e14140000081e323c1e06363c0800"
    "0000382a3c081e2a0e00000000001c30183e2c3e000000000c08100000000000000000040818181818080400000010080c0c0c0c081000"
    "0000083c1824000000000000000008083e080800000000000000000000000c081000000000003e00000000000000000000000000180000"
    "000002020404080810100000001c36363636361c000000000c3c0c0c0c0c3f000000001c36060c18363e000000001c36061c06361c0000"
    "0000060e16363f0606000000003e303c3606263c000000001c36303c36361c000000003e36060c0c1818000000001c36361c36361c0000"
    "00001c36361e06361c0000000000000018000018000000000000001800001810200000000c1830180c000000000000003c003c00000000"
    "000000180c060c180000000000001c260c180018000000001c32262a2a27301c000000003c1c143e363700000000003c363c36363c0000"
    "0000001e363030361c00000000003c363636363c00000000003e303c30363e00000000003e303c30303800000000001c36303e361e0000"
    "00000037363e36363700000000003c181818183c00000000001e0c0c2c2c3800000000003634383c363b000000000038303030363e0000"
    "0000002236363e2a2a0000000000373a3a36363200000000001c363636361c00000000003c36363c303800000000001c363636361c0600"
    "0000003c36363c363b00000000001e323c0e263c00000000003e1a1818183c000000000037363636361c00000000003736141c1c080000"
    "0000002b2a2a3e1c140000000000331e0c0c1e33000000000033331e0c0c1e00000000003e360c18363e000000001c1818181818181c00"
    "000020201010080804040000001c0c0c0c0c0c0c1c000000081c36000000000000000000000000000000003f0000180804000000000000"
    "000000001c361e363f0000000030303c3636363c0000000000001c3630361c000000000e061e3636361f0000000000001c363e301e0000"
    "00000e183e1818183e0000000000001b3636361e063c000030303c36363636000000000c003c0c0c0c3f000000000c003c0c0c0c0c0c38"
    "00003030363c383c37000000003c0c0c0c0c0c3f0000000000003c3e2a2a2a0000000000002c363636360000000000001c3636361c0000"
    "000000003c3636363c3038000000001b3636361e060f00000000371d18183c0000000000001e381e073e0000000018183e18181b0e0000"
    "00000000363636361f00000000000036361c1c080000000000002b2a3e1e140000000000003b1e0c1e37000000000000373636141c1830"
    "000000003e2c18363e00000000060c0c180c0c0c0600000000080808080808080000003018180c1818183000000000001a2c0000000000"
)
GLYPH_WIDTH, GLYPH_HEIGHT = 6, 11


class BitmapFont:
    """The glyph table as an R8 atlas: ASCII 32..126, then one solid cell (for bars and panels)."""

    first = 32
    count = 95

    def __init__(self) -> None:
        rows = bytes.fromhex("".join(_FONT_HEX))
        atlas = np.zeros((GLYPH_HEIGHT, GLYPH_WIDTH * (self.count + 1)), np.uint8)
        for g in range(self.count):
            for y in range(GLYPH_HEIGHT):
                bits = rows[g * GLYPH_HEIGHT + y]
                for x in range(GLYPH_WIDTH):
                    if bits & (1 << (GLYPH_WIDTH - 1 - x)):
                        atlas[y, g * GLYPH_WIDTH + x] = 255
        atlas[:, self.count * GLYPH_WIDTH:] = 255
        self.atlas = atlas

    @property
    def size(self) -> tuple[int, int]:
        return self.atlas.shape[1], self.atlas.shape[0]

    def uv(self, cell: int) -> tuple[float, float, float, float]:
        w = self.atlas.shape[1]
        return (cell * GLYPH_WIDTH / w, 0.0, (cell + 1) * GLYPH_WIDTH / w, 1.0)

    def cell(self, char: str) -> int:
        code = ord(char)
        return code - self.first if self.first <= code < self.first + self.count else ord("?") - self.first


HUD_INPUT = VertexInput.of(VertexBinding(binding=0, stride=48, rate="instance", attributes=(
    VertexAttribute(0, "R32G32B32A32_SFLOAT", 0), VertexAttribute(1, "R32G32B32A32_SFLOAT", 16),
    VertexAttribute(2, "R32G32B32A32_SFLOAT", 32))))


class Hud:
    """Text and bars in screen pixels (origin top left), drawn by one pass of the frame over its
    output: `hud.text(...)`, `hud.bar(...)` while declaring, then `out = hud.draw(fg, out)`.
    The font atlas is a persistent image, bound through a descriptor set of its own (set 1)."""

    def __init__(self, renderer, *, scale: int = 1, name: str = "hud", capacity: int = 1024) -> None:
        self.renderer = renderer
        self.scale = int(scale)
        self.name = name
        self.capacity = int(capacity)          # quads a frame declared once can show (publish())
        self._data = None                      # their FrameData, made at the first publish()
        self._published = 0
        self.font = BitmapFont()
        width, height = self.font.size
        self.atlas = renderer.create_image(f"{name}.font", format="R8_UNORM", extent=(width, height),
                                           data=self.font.atlas)
        self.sets = DescriptorSets(renderer, name=f"{name}.sets", max_sets=4)
        self._quads: list[tuple] = []

    @property
    def line_height(self) -> int:
        return (GLYPH_HEIGHT + 1) * self.scale

    def rect(self, x: float, y: float, width: float, height: float, color=(0.0, 0.0, 0.0, 0.5)) -> None:
        self._quads.append((x, y, width, height, *self.font.uv(self.font.count), *color))

    def text(self, x: float, y: float, text: str, color=(1.0, 1.0, 1.0, 1.0)) -> float:
        """Draw `text` at (x, y); returns the x after it."""
        s = self.scale
        for char in text:
            if char != " ":
                self._quads.append((x, y, GLYPH_WIDTH * s, GLYPH_HEIGHT * s, *self.font.uv(self.font.cell(char)),
                                    *color))
            x += GLYPH_WIDTH * s
        return x

    def bar(self, x: float, y: float, width: float, height: float, fraction: float, color=(0.3, 0.8, 0.4, 0.9),
            back=(0.0, 0.0, 0.0, 0.45)) -> None:
        self.rect(x, y, width, height, back)
        self.rect(x, y, width * min(max(fraction, 0.0), 1.0), height, color)

    def stats(self, stats: FrameStats, *, x: float = 4, y: float = 4, bar_width: float = 40, bar_ms: float = 2.0,
              top: int | None = None, name_chars: int = 10, title: str | None = None) -> float:
        """The usual panel: fps, CPU and GPU ms per frame, then a line per pass with its GPU ms and a
        bar (full = `bar_ms`): every pass in frame order, or the `top` most expensive. Returns the
        y below it."""
        s, lh = self.scale, self.line_height
        lines = [] if title is None else [title]
        gpu = "-" if stats.gpu_ms is None else f"{stats.gpu_ms:.2f}"
        lines.append(f"{stats.fps:.0f} fps cpu {stats.cpu_ms:.1f} gpu {gpu}")
        passes = list(stats.passes)
        if top is not None:
            passes = sorted(passes, key=lambda p: -p[1])[:top]
        pass_w = (name_chars + 6) * GLYPH_WIDTH * s + 4 + bar_width * s
        panel_w = max([len(t) * GLYPH_WIDTH * s for t in lines] + [pass_w if passes else 0])
        self.rect(x - 2 * s, y - 2 * s, panel_w + 4 * s, lh * (len(lines) + len(passes)) + 2 * s,
                  (0.0, 0.0, 0.0, 0.55))
        for t in lines:
            self.text(x, y, t)
            y += lh
        for name, ms in passes:
            after = self.text(x, y, f"{name[:name_chars]:<{name_chars}} {ms:5.2f}", (0.85, 0.85, 0.85, 1.0))
            self.bar(after + 4, y + 2 * s, bar_width * s, (GLYPH_HEIGHT - 4) * s, ms / bar_ms, (0.95, 0.55, 0.2, 0.95))
            y += lh
        return y

    def instances(self) -> np.ndarray:
        return np.asarray(self._quads, np.float32).reshape(-1, 12)

    def publish(self) -> None:
        """Hand the quads drawn since the last frame to a HUD pass declared with `draw(..., frame=)`
        (a frame declared once): into a FrameData of `capacity` quads, before render(). Quads past
        the capacity are dropped, with a warning once."""
        quads = self.instances()
        self._quads = []
        if self._data is None:
            self._data = self.renderer.create_frame_data(f"{self.name}.quads", size=self.capacity * 48)
        count = min(len(quads), self.capacity)
        if count < len(quads):
            warn_once(("hud capacity", self.name), f"HUD {self.name!r}: {len(quads)} quads, capacity "
                      f"{self.capacity}: the rest are not drawn (Hud(capacity=...))")
        padded = np.zeros((self.capacity, 12), np.float32)
        padded[:count] = quads[:count]
        self._data.set(padded)
        self._published = count

    def draw(self, fg, out, *, pass_name: str | None = None, frame=None):
        """Declare the HUD pass: the quads as a vertex buffer (per instance), the font read as a
        sampled image, `out` loaded and blended over. Returns out's new handle.

        Without `frame`: this frame's quads, uploaded by a pass of the frame. With `frame` (the
        FrameInfo): the quads `publish()` put in a FrameData, so the frame can be declared once;
        the pass reads the quad count when it records (every frame: it is dynamic)."""
        name = pass_name or self.name
        if frame is not None:
            if self._data is None:
                raise FrameGraphError("call publish() before render() for a HUD drawn with frame=", pass_name=name)
            buffer = self._data.use(fg, frame)
            count = None
        else:
            quads = self.instances()
            self._quads = []
            count = len(quads)
            # Capacity in steps of 256 quads (zeros are invisible): the buffer's size is part of the
            # frame's structure, and a size that followed the text would miss the plan cache.
            padded = np.zeros((max(1, -(-count // 256)) * 256, 12), np.float32)
            padded[:count] = quads
            buffer = self.renderer.upload(fg, f"{name}.quads", padded)
        font = self.atlas.use(fg)
        with fg.add_pass(name) as p:
            p.reads(buffer, "vertex_buffer")
            p.reads(font, "fragment_shader_read_sampled")
            out = p.writes(out, "color_attachment_write")

            def record(ctx):
                pipeline = ctx.graphics_pipeline("hud.vert", "hud.frag", blend=True, vertex_input=HUD_INPUT)
                with ctx.rendering():
                    ctx.bind_pipeline(pipeline)
                    self.sets.bind(ctx, pipeline, 1, {0: (font, "nearest")})
                    bind_vertex_buffers(ctx, {0: buffer})
                    width, height = ctx.extent()
                    quads = self._published if count is None else count
                    if quads:
                        ctx.draw(6, quads, push=[float(width), float(height)])
            # The quad count is this frame's: under replay the pass records every frame.
            p.execute(dynamic(record))
        return out

    def close(self) -> None:
        """Destroy the descriptor pool (the atlas is the renderer's: it goes with it)."""
        self.sets.close()


def hud_pass(fg, hud: Hud, out, stats: FrameStats, **kw):
    """`hud.stats(stats, **kw)` then `hud.draw(fg, out)`."""
    hud.stats(stats, **kw)
    return hud.draw(fg, out)
