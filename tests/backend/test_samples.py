"""The shadow-map and deferred samples rendered on the device: every frame matches the committed
reference under every strategy, every compiled plan passes the verifier, the validation layer (with
synchronization validation) says nothing, windows present them on Xvfb, and the command lines and the
README's demo write their PNGs. Graph-level checks that need no device: tests/test_samples.py.

References are 128x128 renders at a fixed animation time (the pictures do not depend on how many
frames ran); regenerate one by deleting it and running the test, then look at it before committing.
"""
from __future__ import annotations

from pathlib import Path


import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)


try:
    from framegraph.backends.vulkan import Renderer, WindowTarget
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

from framegraph.samples import common, deferred, demo, shadow_map  # noqa: E402

HERE = Path(__file__).resolve().parent

REFERENCE = HERE / "reference"
SAMPLES = {"shadow_map": shadow_map, "deferred": deferred}
STRATEGIES = common.STRATEGIES
SIZE = (128, 128)
TIME = 1.0            # animation time of the references
SHADOW_SIZE = 512     # the references' shadow maps (smaller than the default: faster, same shapes)

# lavapipe is deterministic (same picture under every strategy, frame after frame); the slack covers
# a rounding step on a few texels from another llvmpipe build.



window = support.load_module("framegraph_test_exec_window_for_samples", HERE / "test_exec_window.py")
xvfb = window.xvfb          # the module-scoped private X server fixture


def compare_with_reference(actual: np.ndarray, stem: str, reference: str) -> None:
    support.compare_with_reference(actual, REFERENCE / f"{reference}.png", stem, tolerance=3, max_fraction=0.002)


def render(ctx, name, *, strategy="batched", frames=3, plans=None, **params):
    images, times = common.render_offscreen(
        ctx, SAMPLES[name].build, size=SIZE, frames=frames, strategy=strategy, each_frame=True,
        on_compile=support.verified([] if plans is None else plans), time=TIME, shadow_size=SHADOW_SIZE, **params)
    return images, times


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", SAMPLES)
def test_frames_match_reference(vk_context, name, strategy):
    before = vk_context.live_objects()
    plans = []
    images, times = render(vk_context, name, strategy=strategy, plans=plans)
    assert len(plans) == 1, "the frame re-declared with new uniforms compiles once"
    assert plans[0].strategy == strategy
    for i, image in enumerate(images):
        compare_with_reference(image, f"{name}.{strategy}.frame{i}", name)
    assert set(times) == {p.name for p in plans[0].passes}
    assert vk_context.live_objects() == before, "renderer.close() must destroy everything it created"


def test_deferred_debug_view(vk_context):
    plans = []
    images, times = render(vk_context, "deferred", frames=1, plans=plans, debug_view=True)
    assert not plans[0].culled and "debug_view" in times and "debug_composite" in times
    compare_with_reference(images[0], "deferred_debug.batched", "deferred_debug")
    # The inset (lower right quarter) shows the G-buffer; the rest is the lit frame.
    plain, _ = render(vk_context, "deferred", frames=1)
    assert np.array_equal(images[0][:64], plain[0][:64])
    assert not np.array_equal(images[0][64:, 64:], plain[0][64:, 64:])


def test_lights_pass_moves_the_lights_as_light_data(vk_context):
    """The deferred frame's "lights" pass (move_lights.comp) writes, on the device, the lights
    that deferred.light_data works out on the host, at the Frame block's time."""
    count, times, plans, results = 20, (0.0, 1.0, 37.25), [], []
    with Renderer(vk_context, on_compile=support.verified(plans)) as renderer:
        for t in times:
            def build(fg, frame, t=t):
                buffers = common.declare_upload(fg, {"frame": deferred.frame_data((64, 64), lights=count, t=t),
                                                     "light_paths": deferred.light_paths(count)})
                lights = deferred.move_lights(fg, buffers, count)
                results.append(renderer.readback(fg, lights, dtype=np.float32))
                return lights
            renderer.render(build)
        for t, result in zip(times, results):
            np.testing.assert_allclose(result.result().reshape(count, common.LIGHT_FLOATS),
                                       deferred.light_data(count, t), atol=5e-4)
    assert len(plans) == 1


@pytest.mark.parametrize("strategy", ("batched", "split"))
def test_deferred_with_async_compute_streams(vk_context, strategy):
    """SSAO on a stream of its own (timeline semaphores between it and the graphics stream) still
    renders the reference picture."""
    family = vk_context.queues["graphics"].family
    profile = {"name": "separate-compute", "queues": {
        "graphics": {"family": family, "index": 0}, "compute": {"family": family, "index": 1},
        "transfer": {"family": family, "index": 0}}}
    plans = []
    images, _ = common.render_offscreen(vk_context, deferred.build, size=SIZE, frames=2, strategy=strategy,
                                        each_frame=True, on_compile=support.verified(plans), device=profile, time=TIME,
                                        shadow_size=SHADOW_SIZE)
    plan = plans[0]
    assert {s.queue for s in plan.submits} == {"graphics", "compute"}
    assert any(w.queue == "compute" for s in plan.submits for w in s.waits)
    for i, image in enumerate(images):
        compare_with_reference(image, f"deferred.streams.{strategy}.frame{i}", "deferred")


@pytest.mark.parametrize("name", SAMPLES)
def test_window_presents_the_sample(vk_context, xvfb, name):
    """A few frames into a GLFW window's swapchain on Xvfb; what X shows is the offscreen picture.

    The window gets a device of its own: Mesa's X11 WSI caches what it negotiated with the X server per
    device, keyed by the connection's address, and a later window's connection can reuse a closed one's
    address; its requests then fail (XFixes BadRequest) and Xlib ends the process."""
    from functools import partial

    from framegraph.backends.vulkan import VulkanContext

    expected = render(vk_context, name, frames=1)[0][0]
    plans = []
    with VulkanContext(app_name=f"{name}-window") as ctx:
        target = WindowTarget(*SIZE, title=f"framegraph-{name}-test")
        with Renderer(ctx, target, on_compile=support.verified(plans)) as renderer:
            for _ in range(3):
                frame = renderer.render(partial(SAMPLES[name].build, time=TIME, shadow_size=SHADOW_SIZE))
            renderer.wait()
            assert frame.extent == SIZE and renderer.compiles == 1
            assert any(w.acquire == "swapchain" for s in plans[0].submits for w in s.waits)
            window._wait_for(xvfb, target, expected, f"{name}.window")


@pytest.mark.parametrize("name", SAMPLES)
def test_command_line_writes_png(vk_context, name, tmp_path, capsys):
    # vk_context gates on a working driver; main() makes (and checks) a context of its own.
    from PIL import Image

    out = tmp_path / f"{name}.png"
    assert SAMPLES[name].main(["--size", "48x32", "--frames", "2", "--strategy", "split", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    assert Image.open(out).size == (48, 32)


@pytest.mark.parametrize("module, args", [
    ("deferred", ["--lights", "-1"]), ("deferred", ["--frames", "-2"]), ("shadow_map", ["--frames", "x"]),
    ("arena", ["--frames", "0"]), ("arena", ["--shadow-size", "-4"]), ("arena", ["--hud-scale", "0"]),
    ("multipass", ["--frames", "-1"]), ("async_compute", ["--frames", "0"])])
def test_sample_command_lines_refuse_bad_counts(module, args, capsys):
    """A count a sample cannot use is argparse's usage error naming the option (exit code 2), not a
    traceback from deep in the frame (negative lights reached vkCmdDrawIndexed; a shadow size of 0
    divided by zero; 0 frames left nothing to time or save)."""
    import importlib

    main = importlib.import_module(f"framegraph.samples.{module}").main
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {args[0]}:" in err and ("or more" in err or "whole number" in err)


def test_demo_renders_the_deferred_sample(vk_context, tmp_path, capsys):
    from PIL import Image

    out = tmp_path / "demo.png"
    assert demo.main(["--out", str(out), "--size", "64x48"]) == 0
    captured = capsys.readouterr()
    assert str(out) in captured.out and "deferred" in captured.err
    assert Image.open(out).size == (64, 48)


@pytest.mark.parametrize("order", ("out first", "size first"))
def test_cli_demo_takes_the_sample_options_in_any_order(vk_context, tmp_path, capsys, order):
    """`python -m framegraph demo --size WxH --out PNG` (either order) reaches the sample; another
    command given an option it lacks still fails with one error line and exit code 2."""
    from PIL import Image

    from framegraph.__main__ import main as cli

    out = tmp_path / "demo.png"
    args = ["--out", str(out), "--size", "40x24"]
    assert cli(["demo"] + (args if order == "out first" else args[2:] + args[:2])) == 0
    assert Image.open(out).size == (40, 24)
    capsys.readouterr()
    assert cli(["info", "--size", "40x24"]) == 2
    assert "error: unrecognized arguments: --size 40x24" in capsys.readouterr().err
