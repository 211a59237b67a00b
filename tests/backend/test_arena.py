"""The arena prototype (samples/arena.py) played by its input script in a GLFW window on a private
Xvfb, frame-locked: 300 frames of moving, throwing projectiles (async compute), toggling bloom and
the debug view (the graph changes shape and changes back: plan cache), resizing and pausing. The
swapchain images of five chosen frames, read back through the graph, match the references; the
validation layer (with synchronization validation) reports nothing. Random scripts, played offscreen
recorded and replayed, give the same screenshots.

Regenerate the references (then look at them) with FRAMEGRAPH_UPDATE_REFERENCES=1.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import Renderer, VulkanContext, WindowTarget, kit
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference"
ACTUAL = HERE / "actual"
SCRIPT = REFERENCE / "arena_script.json"
SHOTS = ("move", "toggle", "resize", "pause", "end")


window = support.load_module("framegraph_test_exec_window_for_arena", HERE / "test_exec_window.py")
xvfb = window.xvfb          # the module-scoped private X server fixture, shared with the window tests


def _compare(name: str, image: np.ndarray, *, tolerance: int = 3, fraction: float = 0.005) -> str | None:
    """None when `image` matches reference/arena_<name>.png (at most `fraction` of the pixels differ
    by more than `tolerance` in a channel); else why, with actual and diff images written."""
    from PIL import Image

    path = REFERENCE / f"arena_{name}.png"
    if os.environ.get("FRAMEGRAPH_UPDATE_REFERENCES") == "1":
        Image.fromarray(image, "RGBA").save(path)
    expected = np.asarray(Image.open(path).convert("RGBA"))
    ACTUAL.mkdir(exist_ok=True)
    if expected.shape != image.shape:
        Image.fromarray(image, "RGBA").save(ACTUAL / f"arena_{name}.png")
        return f"{name}: size {image.shape[1]}x{image.shape[0]}, reference {expected.shape[1]}x{expected.shape[0]}"
    diff = np.abs(image.astype(np.int16) - expected.astype(np.int16))[..., :3].max(axis=2)
    bad = int((diff > tolerance).sum())
    if bad > fraction * diff.size:
        Image.fromarray(image, "RGBA").save(ACTUAL / f"arena_{name}.png")
        Image.fromarray(np.minimum(diff * 8, 255).astype(np.uint8), "L").save(ACTUAL / f"arena_{name}_diff.png")
        return f"{name}: {bad} of {diff.size} pixels differ by more than {tolerance} (max {int(diff.max())})"
    return None


@pytest.mark.parametrize("replay, declare_once", ((False, False), ("all", True)))
def test_arena_script_plays_and_matches_references(xvfb, replay, declare_once):
    """Recorded and declared every frame, or declared once per shape and replayed (the game's
    default): the same screenshots."""
    from framegraph.samples import arena

    script = kit.Script.load(SCRIPT)
    assert script.frames == 300 and script.size == (160, 120)
    compiled = []
    # A device of its own: Mesa's X11 WSI caches per device what it negotiated with an X server
    # (see test_exec_window's window_context).
    with VulkanContext(app_name="framegraph-arena-test") as ctx:
        target = WindowTarget(*script.size, title="arena")
        with Renderer(ctx, target, on_compile=compiled.append, replay=replay) as renderer:
            game = arena.Arena(renderer, shadow_size=256, fixed_hud=True)
            try:
                loop = kit.Loop(renderer, script=script)
                recorded = []                       # command buffers the previous frame recorded

                builds = []

                def on_frame(loop):
                    recorded.append(renderer.last_recorded)
                    game.on_frame(loop)

                def build(fg, frame, loop):
                    builds.append(loop.frame)
                    return game.build(fg, frame, loop)
                loop.run(build, update=game.update, on_frame=on_frame, prepare=game.prepare,
                         shape=game.shape if declare_once else None)
            finally:
                renderer.wait()
                game.close()
            recreations = target.recreations
            hits = renderer.plan_cache.hits

    assert loop.frame == 300
    assert recreations == 2                        # resized to 200x150 and back
    assert game.shots > 0 and not loop.paused
    assert sorted(loop.screenshots) == sorted(SHOTS)
    # Shapes: the first frame, each screenshot frame (a readback pass), bloom off, debug view on, the
    # new size, toggled back... Toggling back and resizing back reuse cached plans: every distinct
    # shape compiles once, and far fewer than the 300 frames.
    names = [tuple(p.name for p in plan.passes) for plan in compiled]
    assert len(compiled) <= 16, names
    assert any("bloom_down0" not in n for n in names) and any("debug_composite" in n for n in names)
    assert any("bloom_down0" in n and "debug_composite" not in n and not any(x.startswith("screenshot") for x in n)
               for n in names)
    if declare_once:
        # Declared for each shape (toggles), size, frame slot and swapchain image, and for each
        # screenshot frame -- not every frame; a steady frame records only the G-buffer (the
        # player's matrix is a push constant) and the HUD (its quad count), each alone.
        assert len(builds) < 60, builds
        assert sorted(recorded)[len(recorded) // 2] == 2, recorded
    else:
        assert len(builds) == 300 and hits > 250
    problems = [p for p in (_compare(name, loop.screenshots[name]) for name in SHOTS) if p]
    assert not problems, "\n".join(problems)


def test_script_events_and_errors():
    script = kit.Script.parse({"format": "framegraph-input/1", "frames": 10, "size": [160, 120], "events": [
        {"frame": 3, "key": "w"}, {"frame": 1, "resize": [200, 150]}, {"frame": 2, "mouse": [1.5, -2]}]})
    assert [(e.frame, e.kind, e.value) for e in script.events] == [
        (1, "resize", (200, 150)), (2, "mouse", (1.5, -2)), (3, "key", ("W", True)), (4, "key", ("W", False))]
    assert script.scaled((320, 240)).at(1)[0].value == (400, 300)
    for bad, words in (({"format": "x"}, "format"), ({"format": "framegraph-input/1", "frames": 0}, "frames"),
                       ({"format": "framegraph-input/1", "events": [{"frame": 1}]}, "events[0]"),
                       ({"format": "framegraph-input/1", "events": [{"frame": -1, "quit": True}]}, "frame"),
                       ({"format": "framegraph-input/1", "events": [{"frame": 1, "resize": [0, 5]}]}, "resize"),
                       ({"format": "framegraph-input/1", "events": [{"frame": 1, "key": "W", "action": "hold"}]},
                        "action")):
        with pytest.raises(kit.ScriptError, match=words.replace("[", r"\[")):
            kit.Script.parse(bad)


def test_input_edges_and_camera():
    i = kit.Input()
    i.key("w", True)
    i.move(10, 0)
    assert i.down("W") and not i.pressed("W")          # edges are the frame's from begin_frame()
    i.begin_frame()
    assert i.down("W") and i.pressed("W") and i.axis("S", "W") == 1.0 and i.mouse_delta == (10, 0)
    i.begin_frame()
    assert i.down("W") and not i.pressed("W") and i.mouse_delta == (0.0, 0.0)
    i.key("W", False)
    i.key("Q", True)
    i.key("Q", False)                                   # a tap within one frame is still a press
    i.begin_frame()
    assert i.released("W") and not i.down("W") and i.pressed("Q") and not i.down("Q")
    camera = kit.OrbitCamera(target=(0.0, 0.0, 0.0), yaw=0.0, pitch=0.0, distance=10.0)
    assert camera.eye == pytest.approx((0.0, 0.0, 10.0)) and camera.forward == pytest.approx((0.0, -1.0))
    i.move(360, 1000)                       # 90 degrees of yaw; pitch clamps
    i.begin_frame()
    camera.update(i)
    assert camera.yaw == pytest.approx(90.0) and camera.pitch == camera.pitch_limits[1]


def test_reload_key_rebuilds_shaders_and_screenshots_show_it(tmp_path, monkeypatch):
    """F5 (the loop's reload key) in a script: the edited shader is compiled and used from the next
    frame; screenshots of an offscreen target come from its own readback."""
    from framegraph.backends.vulkan import OffscreenTarget

    if shutil.which("glslc") is None:
        support.unavailable("glslc not installed")
    monkeypatch.setenv("FRAMEGRAPH_SHADER_CACHE", str(tmp_path / "cache"))
    shader = tmp_path / "tint.frag"
    source = "#version 450\nlayout(location = 0) out vec4 color;\nvoid main() {{ color = vec4({}, 1.0); }}\n"
    shader.write_text(source.format("1.0, 0.0, 0.0"))
    script = kit.Script.parse({"format": "framegraph-input/1", "frames": 6, "events": [
        {"frame": 1, "screenshot": "before"}, {"frame": 3, "key": "F5"}, {"frame": 4, "screenshot": "after"}]})

    def on_frame(loop):
        if loop.frame == 2:                 # edited while the game runs
            shader.write_text(source.format("0.0, 1.0, 0.0"))

    def build(fg, frame, loop):
        out = frame.output
        with fg.add_pass("tint") as p:
            out = p.writes(out, "color_attachment_write", discard=True)

            def record(ctx):
                with ctx.rendering():
                    ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "tint.frag"))
            p.execute(record)
        return out

    with VulkanContext(app_name="framegraph-arena-reload") as ctx:
        with Renderer(ctx, OffscreenTarget(8, 8)) as renderer:
            renderer.add_shader_path(tmp_path)
            loop = kit.run(renderer, build, on_frame=on_frame, script=script)
    assert loop.reloaded == ["tint.frag"]
    assert loop.screenshots["before"][0, 0].tolist() == [255, 0, 0, 255]
    assert loop.screenshots["after"][0, 0].tolist() == [0, 255, 0, 255]


def test_command_line_plays_a_script_offscreen(tmp_path, capsys):
    """`python -m framegraph.samples.arena --script ... --offscreen`: screenshots and the stats file."""
    import json

    from framegraph.samples import arena

    script = tmp_path / "short.json"
    script.write_text(json.dumps({"format": "framegraph-input/1", "frames": 12, "size": [96, 64], "events": [
        {"frame": 1, "key": "W", "action": "press"}, {"frame": 4, "key": "G"}, {"frame": 10, "screenshot": "s"}]}))
    stats = tmp_path / "stats.json"
    code = arena.main(["--script", str(script), "--offscreen", "--shadow-size", "128", "--out", str(tmp_path / "shots"),
                       "--stats-json", str(stats)])
    assert code == 0
    from PIL import Image
    assert Image.open(tmp_path / "shots" / "s.png").size == (96, 64)
    data = json.loads(stats.read_text())
    assert data["size"] == [96, 64] and data["validation_messages"] == 0 and len(data["history"]) == 12
    assert data["fps"] > 0 and data["cpu_ms"] > 0 and data["gpu_ms"] > 0


def _random_script(seed: int, frames: int = 60) -> "kit.Script":
    """Random play: toggles (bloom, debug view, pause), held movement and throw keys, mouse turns
    and resizes, with a screenshot every 7 frames and at the end."""
    import random

    rng = random.Random(seed)
    events, held = [], set()
    for f in range(1, frames - 1):
        r = rng.random()
        if r < 0.08:
            events.append({"frame": f, "key": rng.choice("BGP"), "action": "tap"})
        elif r < 0.2:
            key = rng.choice(["W", "A", "S", "D", "SPACE"])
            events.append({"frame": f, "key": key, "action": "release" if key in held else "press"})
            held ^= {key}
        elif r < 0.24:
            events.append({"frame": f, "resize": rng.choice([[96, 64], [80, 80], [112, 48]])})
        elif r < 0.27:
            events.append({"frame": f, "mouse": [rng.randint(-50, 50), 0]})
    events += [{"frame": f, "screenshot": f"f{f}"} for f in (*range(6, frames, 7), frames - 1)]
    return kit.Script.parse({"format": "framegraph-input/1", "frames": frames, "size": [96, 64], "events": events})


@pytest.mark.parametrize("seed", (3, 7, 11))
def test_random_play_declared_once_and_replayed_matches_recorded(vk_context, seed):
    """A random script (toggles, movement, throws, resizes), played offscreen twice: recorded and
    declared every frame, and declared once per shape and replayed; with 1-3 frames in flight (frame
    shapes take turns in the slots). Every screenshot is the same image both ways."""
    from framegraph.backends.vulkan import OffscreenTarget
    from framegraph.samples import arena

    script = _random_script(seed)
    shots = []
    for replay in (False, "all"):
        with Renderer(vk_context, OffscreenTarget(*script.size, readback=False), replay=replay,
                      frames_in_flight=1 + seed % 3, on_compile=support.verified([])) as renderer:
            game = arena.Arena(renderer, shadow_size=256, fixed_hud=True)
            try:
                loop = kit.Loop(renderer, script=script)
                loop.run(game.build, update=game.update, on_frame=game.on_frame, prepare=game.prepare,
                         shape=game.shape if replay else None)
            finally:
                renderer.wait()
                game.close()
        shots.append(loop.screenshots)
    assert sorted(shots[0]) == sorted(shots[1]) and len(shots[0]) == 9
    for name, image in shots[0].items():
        np.testing.assert_array_equal(shots[1][name], image, err_msg=name)
