"""A hypothesis strategy for random valid frame graphs: images with mips and layers (colour and
depth), buffers with byte ranges, imported resources with initial/final states, a swapchain,
all three queues. Reads only touch what was written, so every generated graph is valid."""
from __future__ import annotations

from hypothesis import strategies as st

from framegraph import FrameGraph

COLOR_WRITES = ["color_attachment_write", "color_attachment_read_write", "compute_shader_write_storage",
                "fragment_shader_write_storage", "transfer_write"]
COLOR_READS = ["fragment_shader_read_sampled", "compute_shader_read_sampled", "vertex_shader_read_sampled",
               "compute_shader_read_storage", "transfer_read", "color_attachment_read"]
DEPTH_WRITES = ["depth_attachment_write", "transfer_write"]
DEPTH_READS = ["depth_attachment_read", "fragment_shader_read_sampled", "compute_shader_read_sampled",
               "transfer_read"]
BUFFER_WRITES = ["transfer_write", "compute_shader_write_storage", "vertex_shader_write_storage",
                 "fragment_shader_write_storage"]
BUFFER_READS = ["vertex_buffer", "index_buffer", "indirect_buffer", "compute_shader_read_uniform",
                "fragment_shader_read_uniform", "compute_shader_read_storage", "transfer_read",
                "vertex_shader_read_sampled"]
QUEUE_OK = {  # accesses a queue can perform
    "graphics": None,
    "compute": {"compute_shader_write_storage", "compute_shader_read_sampled", "compute_shader_read_storage",
                "compute_shader_read_uniform", "transfer_write", "transfer_read", "indirect_buffer"},
    "transfer": {"transfer_write", "transfer_read"},
}
IMPORT_STATES_COLOR = ["undefined", "fragment_shader_read_sampled", "color_attachment_write", "transfer_read",
                       "compute_shader_write_storage", "general"]
IMPORT_STATES_BUFFER = ["undefined", "transfer_write", "compute_shader_read_storage", "vertex_buffer",
                        "host_read"]


@st.composite
def frame_graphs(draw, max_passes: int = 10, queues=("graphics", "compute", "transfer"), *, min_passes: int = 1,
                 max_images: int = 4, max_buffers: int = 3) -> FrameGraph:
    fg = FrameGraph("fuzz")
    resources = []   # (handle-name, kind, meta)
    handles = {}
    n_images = draw(st.integers(1, max_images))
    for i in range(n_images):
        depth = draw(st.booleans()) and i % 2 == 1
        mips = draw(st.integers(1, 3))
        layers = draw(st.integers(1, 2))
        fmt = "D32_SFLOAT" if depth else draw(st.sampled_from(["R8G8B8A8_UNORM", "R16G16B16A16_SFLOAT"]))
        imported = draw(st.booleans()) and not depth
        name = f"img{i}"
        if imported:
            initial = draw(st.sampled_from(IMPORT_STATES_COLOR))
            final = draw(st.sampled_from([None] + IMPORT_STATES_COLOR[1:]))
            h = fg.import_image(name, format=fmt, extent=(16, 16), mips=mips, layers=layers, initial=initial,
                                final=final)
        else:
            h = fg.create_image(name, format=fmt, extent=(16, 16), mips=mips, layers=layers)
        handles[name] = h
        resources.append((name, "depth" if depth else "color", (mips, layers), imported and initial != "undefined"))
    if draw(st.booleans()):
        handles["swap"] = fg.import_image("swap", format="B8G8R8A8_SRGB", extent=(16, 16), swapchain=True)
        resources.append(("swap", "color", (1, 1), False))
    for i in range(draw(st.integers(0, max_buffers))):
        name = f"buf{i}"
        imported = draw(st.booleans())
        if imported:
            initial = draw(st.sampled_from(IMPORT_STATES_BUFFER))
            final = draw(st.sampled_from([None] + IMPORT_STATES_BUFFER[1:]))
            h = fg.import_buffer(name, size=256, initial=initial, final=final)
        else:
            h = fg.create_buffer(name, size=256)
            initial = "undefined"
        handles[name] = h
        resources.append((name, "buffer", None, imported and initial != "undefined"))

    written: dict[str, set] = {name: set() for name, *_ in resources}
    for name, kind, geom, defined in resources:
        if defined:
            written[name] = _all_units(kind, geom)
    n_passes = draw(st.integers(min_passes, max_passes))
    for p in range(n_passes):
        queue = draw(st.sampled_from(queues))
        builder = fg.add_pass(f"p{p}", queue=queue)
        picks = draw(st.lists(st.sampled_from(range(len(resources))), min_size=1, max_size=3, unique=True))
        for idx in picks:
            name, kind, geom, _ = resources[idx]
            sub = _draw_range(draw, kind, geom)
            units = _units(kind, geom, sub)
            want_write = draw(st.booleans())
            can_read = units <= written[name]
            if not want_write and not can_read:
                want_write = True
            pool = (COLOR_WRITES if want_write else COLOR_READS) if kind == "color" else (
                (DEPTH_WRITES if want_write else DEPTH_READS) if kind == "depth" else
                (BUFFER_WRITES if want_write else BUFFER_READS))
            allowed = QUEUE_OK[queue]
            choices = [a for a in pool if allowed is None or a in allowed]
            if not choices:
                continue
            access = draw(st.sampled_from(choices))
            if want_write and access == "color_attachment_read_write" and not can_read:
                access = "color_attachment_write"
            kwargs = {"range": sub} if kind == "buffer" else {"mips": sub[0], "layers": sub[1]}
            if want_write:
                discard = draw(st.booleans())
                handles[name] = builder.writes(handles[name], access, discard=discard, **kwargs)
                written[name] |= units
            else:
                builder.reads(handles[name], access, **kwargs)
    for name, *_ in resources:
        if written[name] and draw(st.booleans()):
            fg.output(handles[name])
    return fg


def _all_units(kind, geom):
    if kind == "buffer":
        return {(b,) for b in range(0, 256, 64)}
    mips, layers = geom
    return {(m, l) for m in range(mips) for l in range(layers)}


def _draw_range(draw, kind, geom):
    if kind == "buffer":
        start = draw(st.sampled_from([0, 64, 128, 192]))
        size = draw(st.sampled_from([s for s in (64, 128, 256) if start + s <= 256]))
        return (start, size)
    mips, layers = geom
    mb = draw(st.integers(0, mips - 1))
    mc = draw(st.integers(1, mips - mb))
    lb = draw(st.integers(0, layers - 1))
    lc = draw(st.integers(1, layers - lb))
    return ((mb, mc), (lb, lc))


def _units(kind, geom, sub):
    if kind == "buffer":
        start, size = sub
        return {(b,) for b in range(start, start + size, 64)}
    (mb, mc), (lb, lc) = sub
    return {(m, l) for m in range(mb, mb + mc) for l in range(lb, lb + lc)}
