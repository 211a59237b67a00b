"""Small graphs shared by the compiler tests (importable, not fixtures, so hypothesis can use them)."""
from framegraph import FrameGraph


def chain(n_pairs: int = 3, *, size=(16, 16)):
    """producer_i writes img_i (color), consumer_i samples img_i and writes the output."""
    fg = FrameGraph("chain")
    out = fg.import_image("out", format="R8G8B8A8_UNORM", extent=size, final="transfer_read")
    for i in range(n_pairs):
        img = fg.create_image(f"img{i}", format="R8G8B8A8_UNORM", extent=size)
        with fg.add_pass(f"produce{i}") as p:
            img = p.writes(img, "color_attachment_write", discard=True)
        with fg.add_pass(f"consume{i}") as p:
            p.reads(img, "fragment_shader_read_sampled")
            out = p.writes(out, "color_attachment_write")
    fg.output(out)
    return fg


def deferred_like(size=(32, 32)):
    fg = FrameGraph("deferred_like")
    depth = fg.create_image("depth", format="D32_SFLOAT", extent=size)
    albedo = fg.create_image("albedo", format="R8G8B8A8_UNORM", extent=size)
    shadow = fg.create_image("shadow", format="D32_SFLOAT", extent=(16, 16), layers=2)
    lights = fg.create_buffer("lights", size=4096)
    hdr = fg.create_image("hdr", format="R16G16B16A16_SFLOAT", extent=size, mips=3)
    swap = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=size, swapchain=True)
    with fg.add_pass("upload_lights", queue="transfer") as p:
        lights = p.writes(lights, "transfer_write", discard=True)
    for layer in range(2):
        with fg.add_pass(f"shadow{layer}") as p:
            shadow = p.writes(shadow, "depth_attachment_write", layers=(layer, 1), discard=True)
    with fg.add_pass("gbuffer") as p:
        depth = p.writes(depth, "depth_attachment_write", discard=True)
        albedo = p.writes(albedo, "color_attachment_write", discard=True)
    with fg.add_pass("lighting", queue="compute") as p:
        p.reads(depth, "compute_shader_read_sampled")
        p.reads(albedo, "compute_shader_read_sampled")
        p.reads(shadow, "compute_shader_read_sampled")
        p.reads(lights, "compute_shader_read_uniform")
        hdr = p.writes(hdr, "compute_shader_write_storage", mips=(0, 1), discard=True)
    for m in (1, 2):
        with fg.add_pass(f"bloom_down{m}") as p:
            p.reads(hdr, "fragment_shader_read_sampled", mips=(m - 1, 1))
            hdr = p.writes(hdr, "color_attachment_write", mips=(m, 1), discard=True)
    with fg.add_pass("debug_view") as p:
        p.reads(depth, "fragment_shader_read_sampled")
    with fg.add_pass("tonemap") as p:
        p.reads(hdr, "fragment_shader_read_sampled")
        swap = p.writes(swap, "color_attachment_write", discard=True)
    fg.output(swap)
    return fg
