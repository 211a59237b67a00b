"""Async compute sample: compute work that overlaps a long graphics pass, consumed later in the frame.

    shade      (graphics)       a sphere-traced fullscreen pass, heavy arithmetic -> scene
    simulate   (compute queue)  an escape-time field, ALU-bound                  -> field
    blur       (compute queue)  a (2r+1)^2 box blur of the field, texture-bound  -> blurred
    composite  (graphics)       the scene with the blurred field over it          -> output

`shade` depends on neither compute pass, so with the compute passes on a queue of their own (family 2
on the H100) the two queues run side by side; `composite` waits for `blurred` through a timeline
semaphore, with a queue-family ownership transfer (release on compute, acquire on graphics), or none
with `CompileOptions(concurrent_sharing=True)`. `--queue graphics` declares the compute passes on the
graphics queue instead. On a device with one queue (lavapipe) the same plan runs on that queue.
Run: python samples/async_compute.py [--queue compute|graphics] [--concurrent] [--size WxH] [--frames N]
                                     [--strategy S] [--out PNG]
"""
from __future__ import annotations

import argparse
import struct
import sys


FORMAT = "R8G8B8A8_UNORM"
WORK_FORMAT = "R16G16B16A16_SFLOAT"
STRATEGIES = ("naive", "per_resource", "batched", "split")


def make_build(*, compute_queue: str = "compute", field_iterations: int = 256, blur_radius: int = 4,
               shade_steps: int = 128, animate: bool = True, compute_first: bool = False):
    """A build(fg, frame) for the renderer; the work scales with the output size and these knobs.

    `shade` is declared before the compute passes unless `compute_first`: transient lifetimes are
    spans of the declaration order, so with the compute passes first `scene` may be placed over
    `field`'s memory, and that aliasing dependency makes `shade` wait for the compute queue."""
    if compute_queue not in ("compute", "graphics"):
        raise ValueError(f"compute_queue must be 'compute' or 'graphics', got {compute_queue!r}")

    def build(fg, frame):
        width, height = frame.extent
        t = frame.time if animate else 0.0
        field = fg.create_image("field", format=WORK_FORMAT, extent=(width, height))
        blurred = fg.create_image("blurred", format=WORK_FORMAT, extent=(width, height))
        scene = fg.create_image("scene", format=WORK_FORMAT, extent=(width, height))

        def compute_passes():
            nonlocal field, blurred
            with fg.add_pass("simulate", queue=compute_queue) as p:
                field = p.writes(field, "compute_shader_write_storage", discard=True)
                push = struct.pack("If", field_iterations, t)
                p.execute(lambda ctx: ctx.dispatch_threads(
                    width, height, pipeline=ctx.compute_pipeline("async_field.comp"), bindings={0: "field"}, push=push))
            with fg.add_pass("blur", queue=compute_queue) as p:
                p.reads(field, "compute_shader_read_sampled")
                blurred = p.writes(blurred, "compute_shader_write_storage", discard=True)
                p.execute(lambda ctx: ctx.dispatch_threads(
                    width, height, pipeline=ctx.compute_pipeline("async_blur.comp"),
                    bindings={0: "field", 1: "blurred"}, push=struct.pack("i", blur_radius)))

        def shade_pass():
            nonlocal scene
            with fg.add_pass("shade") as p:
                scene = p.writes(scene, "color_attachment_write", discard=True)

                def shade(ctx):
                    with ctx.rendering(clear=(0.0, 0.0, 0.0, 1.0)):
                        ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "async_shade.frag"),
                                 push=struct.pack("If", shade_steps, t))
                p.execute(shade)

        for declare in ((compute_passes, shade_pass) if compute_first else (shade_pass, compute_passes)):
            declare()

        with fg.add_pass("composite") as p:
            p.reads(scene, "fragment_shader_read_sampled")
            p.reads(blurred, "fragment_shader_read_sampled")
            out = p.writes(frame.output, "color_attachment_write", discard=True)

            def composite(ctx):
                with ctx.rendering(clear=(0.0, 0.0, 0.0, 1.0)):
                    ctx.draw(3, pipeline=ctx.graphics_pipeline("fullscreen.vert", "async_composite.frag"),
                             bindings={0: "scene", 1: "blurred"})
            p.execute(composite)
        return out

    return build


build = make_build()          # the defaults (what `python -m framegraph bench --sample async_compute` runs)


def separate_streams(ctx) -> dict:
    """A device profile with each logical queue on its own queue index of the graphics family: on a
    one-queue device the streams share that VkQueue, but the plan keeps its timeline semaphores."""
    family = ctx.queues["graphics"].family
    return {"name": "graphics-family-streams",
            "queues": {q: {"family": family, "index": i} for i, q in enumerate(("graphics", "compute", "transfer"))}}


def options(concurrent: bool):
    import framegraph
    return framegraph.CompileOptions(concurrent_sharing=concurrent)


def render_offscreen(ctx, *, frames: int = 3, size=(64, 64), strategy: str = "batched", compute_queue: str = "compute",
                     concurrent: bool = False, device=None, on_compile=None, **knobs):
    """Render `frames` frames offscreen; returns (last image as HxWx4 uint8, renderer's last GPU frame ms)."""
    from framegraph.backends.vulkan import OffscreenTarget, Renderer

    # Reading back on the transfer queue puts all three queue families to work on a discrete GPU.
    target = OffscreenTarget(*size, format=FORMAT, readback_queue="transfer" if compute_queue == "compute" else "graphics")
    with Renderer(ctx, target, strategy=strategy, options=options(concurrent), device=device,
                  on_compile=on_compile) as renderer:
        b = make_build(compute_queue=compute_queue, **knobs)
        for _ in range(frames):
            renderer.render(b)
        image = target.read()
        renderer.wait()
        return image, renderer.last_gpu_frame_ms


def _size(text: str) -> tuple[int, int]:
    from framegraph.bench import parse_size
    return parse_size(text)


def main(argv: list[str] | None = None) -> int:
    from framegraph.backends.vulkan import VulkanContext, save_png
    from framegraph.samples.common import at_least

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", choices=("compute", "graphics"), default="compute",
                        help="the queue the simulate and blur passes are declared on")
    parser.add_argument("--concurrent", action="store_true", help="CONCURRENT sharing instead of ownership transfers")
    parser.add_argument("--streams", action="store_true",
                        help="separate streams on the graphics family (semaphores on a one-queue device)")
    parser.add_argument("--frames", type=at_least(1), default=3)
    parser.add_argument("--strategy", default="batched", choices=STRATEGIES)
    parser.add_argument("--size", type=_size, default=(256, 256), metavar="WxH")
    parser.add_argument("--out", default="out/async_compute.png")
    args = parser.parse_args(argv)
    plans = []
    with VulkanContext(app_name="async_compute") as ctx:
        image, gpu_ms = render_offscreen(ctx, frames=args.frames, size=args.size, strategy=args.strategy,
                                         compute_queue=args.queue, concurrent=args.concurrent,
                                         device=separate_streams(ctx) if args.streams else None,
                                         on_compile=plans.append)
        print(save_png(image, args.out))
    problems = ctx.messages.drain()
    for problem in problems:
        print(problem, file=sys.stderr)
    plan = plans[-1]
    stats = plan.stats
    print(f"queues {dict((q, s['family']) for q, s in plan.queues.items())}, {len(plan.submits)} submits, "
          f"{stats['barrier_calls']} barrier calls, {stats['semaphore_waits']} semaphore waits; "
          f"GPU frame {gpu_ms if gpu_ms is None else round(gpu_ms, 3)} ms")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
