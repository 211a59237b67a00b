"""Multipass sample: compute -> raster -> post, with every barrier from the compiled plan.

    noise   (compute queue)  a procedural pattern into a storage image
    sky                      a gradient into the scene colour target (cleared)
    raster                   a triangle textured with the noise over the sky (loads the scene)
    post                     exposure and vignette from the scene into the target's image

`sky` sits between `noise` and its reader, so the `split` strategy waits on a VkEvent there.
Run: python samples/multipass.py [--frames N] [--strategy S] [--size WxH] [--out PNG] [--window]
"""
from __future__ import annotations

import argparse
import sys

from framegraph.backends.vulkan import OffscreenTarget, Renderer, VulkanContext, make_target

FORMAT = "R8G8B8A8_UNORM"
CLEAR = (0.0, 0.0, 0.0, 1.0)
EXPOSURE = (1.1, 0.8)       # post pass push constants: exposure, vignette strength
CELLS = 8.0                 # noise pass push constant: checker cells across the image


def build(fg, frame):
    """Declare one frame; returns the final handle of frame.output."""
    width, height = frame.extent
    noise = fg.create_image("noise", format=FORMAT, extent=(width, height))
    scene = fg.create_image("scene", format=FORMAT, extent=(width, height))

    with fg.add_pass("noise", queue="compute") as p:
        noise = p.writes(noise, "compute_shader_write_storage", discard=True)
        p.execute(lambda ctx: ctx.dispatch_threads(
            width, height, pipeline=ctx.compute_pipeline("noise.comp"), bindings={0: "noise"}, push=[CELLS]))

    with fg.add_pass("sky") as p:
        scene = p.writes(scene, "color_attachment_write", discard=True)

        def sky(ctx):
            with ctx.rendering(clear=CLEAR):
                ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "sky.frag"))
        p.execute(sky)

    with fg.add_pass("raster") as p:
        p.reads(noise, "fragment_shader_read_sampled")
        scene = p.writes(scene, "color_attachment_read_write")

        def raster(ctx):
            with ctx.rendering():
                ctx.draw(3, pipeline=ctx.graphics_pipeline("textured.vert", "textured.frag"),
                         bindings={0: ("noise", "nearest")})
        p.execute(raster)

    with fg.add_pass("post") as p:
        p.reads(scene, "fragment_shader_read_sampled")
        out = p.writes(frame.output, "color_attachment_write", discard=True)

        def post(ctx):
            with ctx.rendering(clear=CLEAR):
                ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "post.frag"),
                         bindings={0: "scene"}, push=list(EXPOSURE))
        p.execute(post)
    return out


def render_offscreen(ctx, *, frames: int = 5, size=(64, 64), strategy: str = "batched", on_compile=None,
                     each_frame=None, device=None):
    """Render `frames` frames offscreen; returns the list of read-back HxWx4 arrays (one per frame
    when `each_frame` is true, else only the last) and the renderer's GPU times."""
    from framegraph.samples.common import render_offscreen as render
    return render(ctx, build, size=size, frames=frames, strategy=strategy, on_compile=on_compile, device=device,
                  each_frame=bool(each_frame))


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 64x64, got {text!r}") from None
    return width, height


def main(argv: list[str] | None = None) -> int:
    from framegraph.samples.common import at_least

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=at_least(1), default=5)
    parser.add_argument("--strategy", default="batched", choices=("naive", "per_resource", "batched", "split"))
    parser.add_argument("--size", type=_size, default=(64, 64), metavar="WxH")
    parser.add_argument("--out", default="out/multipass.png", help="PNG of the last frame (offscreen)")
    parser.add_argument("--window", action="store_true",
                        help="present to a GLFW window (unless FRAMEGRAPH_OFFSCREEN=1)")
    args = parser.parse_args(argv)
    with VulkanContext(app_name="multipass") as ctx:
        target = make_target(*args.size, title="multipass", offscreen=None if args.window else True)
        with Renderer(ctx, target, strategy=args.strategy) as renderer:
            for _ in range(args.frames):
                if isinstance(target, OffscreenTarget) or not target.should_close():
                    renderer.render(build)
            renderer.wait()
            times = renderer.last_gpu_times_ms
            if isinstance(target, OffscreenTarget):
                print(target.save_png(args.out))
    problems = ctx.messages.drain()
    for problem in problems:
        print(problem, file=sys.stderr)
    print("gpu ms: " + ", ".join(f"{k}={v:.3f}" for k, v in times.items()))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
