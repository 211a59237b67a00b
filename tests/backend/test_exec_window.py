"""A GLFW window on a private Xvfb: frames are presented through the swapchain, the window is resized
once (the swapchain is recreated and the frame recompiled at the new size), and what X shows in the
window is the same picture the offscreen target reads back."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    from framegraph.backends.vulkan import Renderer, WindowTarget
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

HERE = Path(__file__).resolve().parent
ACTUAL = HERE / "actual"



helpers = support.load_module("framegraph_test_exec_multipass", HERE / "test_exec_multipass.py")


@pytest.fixture(scope="module")
def xvfb():
    """A private X server (Debian: xvfb, x11-apps for xwd); DISPLAY points at it while the module runs."""
    missing = [tool for tool in ("Xvfb", "xwd") if shutil.which(tool) is None]
    if missing:
        support.unavailable(f"{', '.join(missing)} not installed (apt-get install xvfb x11-apps)")
    read, write = os.pipe()
    # -noreset: by default the server resets when its last client leaves (between two windows, after
    # xwd), and a reset server that chose its display with -displayfd while lower numbers were taken
    # stops accepting connections ("Failed to open display").
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "320x240x24", "-nolisten", "tcp",
                               "-noreset"],
                              pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.fail(f"Xvfb did not start: {server.stderr.read().decode(errors='replace')}")
    display = f":{number}"
    old = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if old is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = old
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def window_context(vk_context):
    """A device for one test's windows. Mesa's X11 WSI caches what it negotiated with the X server per
    device, keyed by the connection's address; a window opened after another was closed (glfw.terminate)
    can get a connection at the same address, skip the negotiation, and fail an XFixes request
    (BadRequest), on which Xlib ends the whole process. A fresh device has an empty cache."""
    from framegraph.backends.vulkan import VulkanContext

    with VulkanContext(app_name="framegraph-window-tests") as ctx:
        yield ctx


def parse_xwd(data: bytes) -> np.ndarray:
    """An XWD (X Window Dump, ZPixmap, 24/32 bits per pixel) file as an HxWx3 uint8 RGB array."""
    header = struct.unpack(">25I", data[:100])
    (header_size, _version, pixmap_format, _depth, width, height, _xoffset, byte_order, _unit, _bit_order,
     _pad, bits_per_pixel, bytes_per_line, _visual, red_mask, green_mask, blue_mask, _bits_rgb, _entries,
     ncolors) = header[:20]
    if pixmap_format != 2 or bits_per_pixel not in (24, 32):
        raise ValueError(f"unsupported XWD: format {pixmap_format}, {bits_per_pixel} bits per pixel")
    start = header_size + 12 * ncolors
    step = bits_per_pixel // 8
    raw = np.frombuffer(data, dtype=np.uint8, count=height * bytes_per_line, offset=start)
    raw = raw.reshape(height, bytes_per_line)[:, :width * step].reshape(height, width, step).astype(np.uint32)
    if byte_order != 0:            # MSBFirst
        raw = raw[..., ::-1]
    rows = sum(raw[..., i] << (8 * i) for i in range(step))

    def channel(mask):
        shift = (mask & -mask).bit_length() - 1
        return ((rows & mask) >> shift).astype(np.uint8)

    return np.stack([channel(red_mask), channel(green_mask), channel(blue_mask)], axis=-1)


def screenshot(display: str, target) -> np.ndarray:
    """The whole X screen (`xwd -root`), cropped to the window's client area."""
    import glfw

    dump = subprocess.run(["xwd", "-silent", "-root", "-display", display], check=True, capture_output=True).stdout
    screen = parse_xwd(dump)
    x, y = glfw.get_window_pos(target.window)
    width, height = glfw.get_framebuffer_size(target.window)
    return screen[y:y + height, x:x + width]


def _matches(shot: np.ndarray, expected: np.ndarray, tolerance=2, fraction=0.005) -> bool:
    if shot.shape[:2] != expected.shape[:2]:
        return False
    diff = np.abs(shot.astype(np.int16) - expected[..., :3].astype(np.int16)).max(axis=2)
    return int((diff > tolerance).sum()) <= fraction * diff.size


def _wait_for(display, target, expected, stem, timeout=5.0):
    """Presentation reaches X asynchronously: poll the window's contents for a moment."""
    from framegraph.backends.vulkan import save_png

    deadline = time.monotonic() + timeout
    while True:
        shot = screenshot(display, target)
        if _matches(shot, expected):
            return shot
        if time.monotonic() > deadline:
            rgba = np.concatenate([shot, np.full(shot.shape[:2] + (1,), 255, np.uint8)], axis=2)
            save_png(rgba, ACTUAL / f"{stem}.png")
            save_png(expected, ACTUAL / f"{stem}.expected.png")
            pytest.fail(f"window shows {shot.shape[1]}x{shot.shape[0]} content unlike the offscreen render "
                        f"{expected.shape[1]}x{expected.shape[0]}; wrote {ACTUAL / (stem + '.png')}")
        time.sleep(0.05)


@pytest.mark.parametrize("detect", ("poll", "wsi"))
def test_window_presents_resizes_and_shows_the_frame(vk_context, window_context, xvfb, detect):
    """detect="poll": the target sees the new framebuffer size before acquiring; "wsi": it is blind to
    it, so only VkErrorOutOfDateKhr / VkSuboptimalKhr from acquire or present can trigger the
    recreation."""
    multipass = helpers.load_sample("multipass")
    expected = {size: multipass.render_offscreen(vk_context, frames=1, size=size)[0][0]
                for size in ((96, 64), (128, 80))}
    plans = []
    target = WindowTarget(96, 64, title="framegraph-window-test")
    if detect == "wsi":
        target.framebuffer_size = lambda: target.extent
    with Renderer(window_context, target, on_compile=support.verified(plans)) as renderer:
        assert target.format.full_name in ("VK_FORMAT_B8G8R8A8_UNORM", "VK_FORMAT_R8G8B8A8_UNORM")
        for _ in range(4):
            frame = renderer.render(multipass.build)
        assert frame.extent == (96, 64)
        renderer.wait()
        _wait_for(xvfb, target, expected[(96, 64)], "window.96x64")
        plan = plans[-1]
        assert any(w.acquire == "swapchain" for s in plan.submits for w in s.waits)
        assert any(s.present == ("swapchain",) for s in plan.submits)

        target.set_size(128, 80)
        for _ in range(4):
            frame = renderer.render(multipass.build)
        renderer.wait()
        assert frame.extent == (128, 80) and target.extent == (128, 80)
        assert target.recreations == 1
        if detect == "wsi":
            assert target.wsi_reports, "recreated without an out-of-date/suboptimal report"
        assert renderer.compiles == 2, "the resized frame compiles once, then comes from the cache"
        shot = _wait_for(xvfb, target, expected[(128, 80)], "window.128x80")
        # Independent of the offscreen path: dark sky corners, the textured triangle in the middle.
        assert shot[2, 2].max() < 60 and shot[40, 64].max() > 80
    assert not target.window and target.swapchain is None


def test_a_failing_frame_gives_the_swapchain_image_back(vk_context, window_context, xvfb):
    multipass = helpers.load_sample("multipass")
    expected = multipass.render_offscreen(vk_context, frames=1, size=(96, 64))[0][0]
    target = WindowTarget(96, 64, title="framegraph-window-abort")

    def broken(fg, frame):
        raise RuntimeError("build failed after the acquire")

    with Renderer(window_context, target) as renderer:
        renderer.render(multipass.build)
        for _ in range(renderer.frames_in_flight + 1):    # every acquire semaphore comes round again
            with pytest.raises(RuntimeError, match="after the acquire"):
                renderer.render(broken)
            renderer.render(multipass.build)
        renderer.wait()
        _wait_for(xvfb, target, expected, "window.after_failure")
        assert target.recreations >= 1
