"""Shadow-map sample: a sun with two shadow cascades, each a layer of one depth image.

    upload            vertices, indices and the frame's uniforms into transient buffers (transfer)
    shadow_cascade0   depth of the scene from the sun, near slice of the view  -> shadow layer 0
    shadow_cascade1   the same for the far slice                               -> shadow layer 1
    scene             the lit scene: 3x3 comparison taps (PCF) into the cascade that covers each
                      fragment; writes the output and a transient depth buffer

Each cascade pass writes one layer, so its barriers name one layer (layer-granular barriers); the
scene pass reads both layers at once.
Run: python samples/shadow_map.py [--size WxH] [--frames N] [--strategy S] [--window] [--out PNG]
"""
from __future__ import annotations

import sys

import numpy as np

from framegraph.samples import common

SHADOW_FORMAT = "D32_SFLOAT"
DEPTH_FORMAT = "D32_SFLOAT"
SUN_DIR = (-0.55, 0.75, 0.38)          # towards the sun
SUN_COLOR = (1.0, 0.93, 0.82)
SKY = (0.58, 0.70, 0.85, 1.0)         # the clear colour is the background (display-encoded)
CASCADES = 2
SPLITS = (0.1, 18.0, 45.0)             # view distances where the cascades begin and end
DEPTH_BIAS = (1.25, 1.75)              # constant, slope: against shadow acne


def build(fg, frame, *, shadow_size: int = 1024, camera: common.Camera | None = None, time: float | None = None):
    """Declare one frame into `fg`; returns the final handle of `frame.output`."""
    width, height = frame.extent
    aspect = width / height
    sc = common.scene()
    camera = camera or common.Camera()
    t = common.frame_time(frame, time)
    cascades = common.cascade_matrices(camera, aspect, SUN_DIR, splits=SPLITS, resolution=shadow_size)
    uniforms = common.frame_uniforms(camera, aspect, sun_dir=SUN_DIR, sun_color=SUN_COLOR, sun_intensity=1.5,
                                     ambient=0.5, cascades=cascades, shadow_size=shadow_size,
                                     normal_offsets=(0.03, 0.08), time=t)
    buffers = common.declare_upload(fg, {"vertices": sc.vertices.tobytes(), "indices": sc.indices.tobytes(),
                                         "frame": uniforms})

    shadow = fg.create_image("shadow", format=SHADOW_FORMAT, extent=(shadow_size, shadow_size), layers=CASCADES)
    for c in range(CASCADES):
        shadow = shadow_pass(fg, f"shadow_cascade{c}", sc, buffers, shadow, c)

    depth = fg.create_image("depth", format=DEPTH_FORMAT, extent=(width, height))
    with fg.add_pass("scene") as p:
        common.reads_mesh(p, buffers)
        p.reads(buffers["frame"], "vertex_shader_read_uniform")
        p.reads(buffers["frame"], "fragment_shader_read_uniform")
        p.reads(shadow, "fragment_shader_read_sampled")
        out = p.writes(frame.output, "color_attachment_write", discard=True)
        p.writes(depth, "depth_attachment_write", discard=True)

        def scene(ctx):
            pipeline = ctx.graphics_pipeline("scene.vert", "forward_shadow.frag", depth_test=True, depth_write=True)
            with ctx.rendering(clear=SKY, clear_depth=1.0):
                common.draw_instances(ctx, sc, pipeline, {0: "vertices", 1: "frame", 2: ("shadow", "shadow")})
        p.execute(scene)
    return out


def shadow_pass(fg, name: str, sc: common.Scene, buffers: dict, shadow, cascade: int, *, layer: int | None = None):
    """Declare a depth-only pass drawing `sc` from the sun, as cascade `cascade` sees it, into layer
    `layer` (default: `cascade`) of `shadow` (the deferred sample uses it too, one single-layer image
    per cascade); returns the shadow map's new handle."""
    index = np.array([cascade], np.uint32).tobytes()
    layer = cascade if layer is None else layer
    with fg.add_pass(name) as p:
        common.reads_mesh(p, buffers)
        p.reads(buffers["frame"], "vertex_shader_read_uniform")
        shadow = p.writes(shadow, "depth_attachment_write", layers=(layer, 1), discard=True)

        def record(ctx):
            pipeline = ctx.graphics_pipeline("shadow.vert", None, depth_test=True, depth_write=True,
                                             depth_bias=DEPTH_BIAS)
            with ctx.rendering(clear_depth=1.0):
                # shadow.vert's push constants: the model matrix and the cascade.
                common.draw_instances(ctx, sc, pipeline, {0: "vertices", 1: "frame"},
                                      push=lambda inst, data: data[:64] + index)
        p.execute(record)
    return shadow


def build_graph(width: int = 1280, height: int = 720, **params):
    """The frame as a FrameGraph, declared without a device (for export and visualisation)."""
    return common.build_graph(build, "shadow_map", width=width, height=height, **params)


def main(argv: list[str] | None = None) -> int:
    args = common.parser(__doc__.splitlines()[0], out="out/shadow_map.png").parse_args(argv)
    return common.run(build, args, title="shadow_map")


if __name__ == "__main__":
    sys.exit(main())
