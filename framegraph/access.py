"""The access vocabulary: one table from a named usage to stage mask, access mask, image layout,
read/write and resource usage flags. Every barrier the compiler builds is derived from it.

Names follow DESIGN.md; THSVS spellings (`FRAGMENT_SHADER_READ_SAMPLED_IMAGE_OR_UNIFORM_TEXEL_BUFFER`)
and any letter case are accepted as aliases.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import FrameGraphError, show_value
from .vk import Access, BufferUsage, Format, ImageUsage, Layout, Stage, WRITE_ACCESS


@dataclass(frozen=True, slots=True)
class AccessInfo:
    name: str
    stages: Stage
    access: Access
    layout: Layout | None          # None: not usable on images
    image_usage: ImageUsage | None  # None: not usable on images
    buffer_usage: BufferUsage | None  # None: not usable on buffers; 0: usable, needs no usage bit
    # Derived once per row: declaring a frame asks them for every access (flag arithmetic on enums
    # costs about a microsecond each).
    writes: bool = field(init=False, default=False)
    reads: bool = field(init=False, default=False)

    def __post_init__(self):
        object.__setattr__(self, "writes", bool(int(self.access) & int(WRITE_ACCESS)))
        object.__setattr__(self, "reads", bool(int(self.access) & ~int(WRITE_ACCESS)))


_SHADER_STAGES = {
    "vertex": Stage.VERTEX_SHADER,
    "fragment": Stage.FRAGMENT_SHADER,
    "compute": Stage.COMPUTE_SHADER,
    "any": Stage.ALL_COMMANDS,
}
_DEPTH_TESTS = Stage.EARLY_FRAGMENT_TESTS | Stage.LATE_FRAGMENT_TESTS
_B0 = BufferUsage(0)


def _table() -> dict[str, AccessInfo]:
    rows: list[AccessInfo] = [
        AccessInfo("indirect_buffer", Stage.DRAW_INDIRECT, Access.INDIRECT_COMMAND_READ, None, None,
                   BufferUsage.INDIRECT_BUFFER),
        AccessInfo("index_buffer", Stage.INDEX_INPUT, Access.INDEX_READ, None, None, BufferUsage.INDEX_BUFFER),
        AccessInfo("vertex_buffer", Stage.VERTEX_ATTRIBUTE_INPUT, Access.VERTEX_ATTRIBUTE_READ, None, None,
                   BufferUsage.VERTEX_BUFFER),
    ]
    for prefix, stage in _SHADER_STAGES.items():
        rows += [
            AccessInfo(f"{prefix}_shader_read_uniform", stage, Access.UNIFORM_READ, None, None,
                       BufferUsage.UNIFORM_BUFFER),
            AccessInfo(f"{prefix}_shader_read_sampled", stage, Access.SHADER_SAMPLED_READ,
                       Layout.SHADER_READ_ONLY_OPTIMAL, ImageUsage.SAMPLED, BufferUsage.UNIFORM_TEXEL_BUFFER),
            AccessInfo(f"{prefix}_shader_read_storage", stage, Access.SHADER_STORAGE_READ, Layout.GENERAL,
                       ImageUsage.STORAGE, BufferUsage.STORAGE_BUFFER),
            AccessInfo(f"{prefix}_shader_write_storage", stage, Access.SHADER_STORAGE_WRITE, Layout.GENERAL,
                       ImageUsage.STORAGE, BufferUsage.STORAGE_BUFFER),
        ]
    rows += [
        AccessInfo("fragment_shader_read_color_input_attachment", Stage.FRAGMENT_SHADER,
                   Access.INPUT_ATTACHMENT_READ, Layout.SHADER_READ_ONLY_OPTIMAL, ImageUsage.INPUT_ATTACHMENT, None),
        AccessInfo("fragment_shader_read_depth_input_attachment", Stage.FRAGMENT_SHADER,
                   Access.INPUT_ATTACHMENT_READ, Layout.DEPTH_READ_ONLY_OPTIMAL, ImageUsage.INPUT_ATTACHMENT, None),
        AccessInfo("color_attachment_read", Stage.COLOR_ATTACHMENT_OUTPUT, Access.COLOR_ATTACHMENT_READ,
                   Layout.COLOR_ATTACHMENT_OPTIMAL, ImageUsage.COLOR_ATTACHMENT, None),
        AccessInfo("depth_attachment_read", _DEPTH_TESTS, Access.DEPTH_STENCIL_ATTACHMENT_READ,
                   Layout.DEPTH_READ_ONLY_OPTIMAL, ImageUsage.DEPTH_STENCIL_ATTACHMENT, None),
        AccessInfo("transfer_read", Stage.ALL_TRANSFER, Access.TRANSFER_READ, Layout.TRANSFER_SRC_OPTIMAL,
                   ImageUsage.TRANSFER_SRC, BufferUsage.TRANSFER_SRC),
        AccessInfo("host_read", Stage.HOST, Access.HOST_READ, Layout.GENERAL, ImageUsage(0), _B0),
        AccessInfo("present", Stage.NONE, Access.NONE, Layout.PRESENT_SRC_KHR, ImageUsage(0), None),
        AccessInfo("color_attachment_write", Stage.COLOR_ATTACHMENT_OUTPUT, Access.COLOR_ATTACHMENT_WRITE,
                   Layout.COLOR_ATTACHMENT_OPTIMAL, ImageUsage.COLOR_ATTACHMENT, None),
        AccessInfo("color_attachment_read_write", Stage.COLOR_ATTACHMENT_OUTPUT,
                   Access.COLOR_ATTACHMENT_READ | Access.COLOR_ATTACHMENT_WRITE, Layout.COLOR_ATTACHMENT_OPTIMAL,
                   ImageUsage.COLOR_ATTACHMENT, None),
        # Depth testing reads as well as writes: the write access carries both bits.
        AccessInfo("depth_attachment_write", _DEPTH_TESTS,
                   Access.DEPTH_STENCIL_ATTACHMENT_READ | Access.DEPTH_STENCIL_ATTACHMENT_WRITE,
                   Layout.DEPTH_ATTACHMENT_OPTIMAL, ImageUsage.DEPTH_STENCIL_ATTACHMENT, None),
        AccessInfo("transfer_write", Stage.ALL_TRANSFER, Access.TRANSFER_WRITE, Layout.TRANSFER_DST_OPTIMAL,
                   ImageUsage.TRANSFER_DST, BufferUsage.TRANSFER_DST),
        AccessInfo("host_write", Stage.HOST, Access.HOST_WRITE, Layout.GENERAL, ImageUsage(0), _B0),
        AccessInfo("general", Stage.ALL_COMMANDS, Access.MEMORY_READ | Access.MEMORY_WRITE, Layout.GENERAL,
                   ImageUsage(0), _B0),
    ]
    return {r.name: r for r in rows}


ACCESS_TABLE: dict[str, AccessInfo] = _table()

# THSVS / vk-sync spellings of the same usages.
_THSVS = {
    "indirect_buffer": "indirect_buffer", "index_buffer": "index_buffer", "vertex_buffer": "vertex_buffer",
    "color_attachment_read": "color_attachment_read", "transfer_read": "transfer_read",
    "host_read": "host_read", "present": "present", "color_attachment_write": "color_attachment_write",
    "transfer_write": "transfer_write", "host_write": "host_write", "general": "general",
    "color_attachment_read_write": "color_attachment_read_write",
    "depth_stencil_attachment_read": "depth_attachment_read",
    "depth_stencil_attachment_write": "depth_attachment_write",
    "fragment_shader_read_color_input_attachment": "fragment_shader_read_color_input_attachment",
    "fragment_shader_read_depth_stencil_input_attachment": "fragment_shader_read_depth_input_attachment",
}
for _p in _SHADER_STAGES:
    _THSVS[f"{_p}_shader_read_uniform_buffer"] = f"{_p}_shader_read_uniform"
    _THSVS[f"{_p}_shader_read_sampled_image_or_uniform_texel_buffer"] = f"{_p}_shader_read_sampled"
    _THSVS[f"{_p}_shader_read_other"] = f"{_p}_shader_read_storage"
    _THSVS[f"{_p}_shader_write"] = f"{_p}_shader_write_storage"
    _THSVS[f"{_p}_shader_read_storage"] = f"{_p}_shader_read_storage"

_ALIASES = {**{k: k for k in ACCESS_TABLE}, **_THSVS}


def lookup(name: str, *, pass_name: str | None = None, resource: str | None = None) -> AccessInfo:
    """The table row for an access name in any accepted spelling."""
    if not isinstance(name, str):
        raise FrameGraphError(f"an access is named by a string, got {show_value(name)}", pass_name=pass_name,
                              resource=resource)
    key = name.strip().lower()
    if key.startswith("thsvs_access_"):
        key = key[len("thsvs_access_"):]
    canonical = _ALIASES.get(key)
    if canonical is None:
        raise FrameGraphError(f"unknown access {name!r}", pass_name=pass_name, resource=resource)
    return ACCESS_TABLE[canonical]


def effective_access(info: AccessInfo, discard: bool) -> Access:
    """Access bits including the attachment load: a colour attachment write that keeps the old
    contents uses LOAD_OP_LOAD, which reads the attachment (COLOR_ATTACHMENT_READ at
    COLOR_ATTACHMENT_OUTPUT); a discarding write clears or ignores them and reads nothing."""
    if info.access & Access.COLOR_ATTACHMENT_WRITE and not discard:
        return info.access | Access.COLOR_ATTACHMENT_READ
    return info.access


def layout_for_format(layout: Layout, fmt: Format) -> Layout:
    """Depth layouts name the depth aspect; formats with stencil need the combined layouts."""
    if fmt.has_stencil:
        if layout == Layout.DEPTH_ATTACHMENT_OPTIMAL:
            return Layout.DEPTH_STENCIL_ATTACHMENT_OPTIMAL
        if layout == Layout.DEPTH_READ_ONLY_OPTIMAL:
            return Layout.DEPTH_STENCIL_READ_ONLY_OPTIMAL
    return layout


_DEPTH_READ_ONLY = (Layout.DEPTH_READ_ONLY_OPTIMAL, Layout.DEPTH_STENCIL_READ_ONLY_OPTIMAL)
_DEPTH_WRITABLE = (Layout.DEPTH_ATTACHMENT_OPTIMAL, Layout.DEPTH_STENCIL_ATTACHMENT_OPTIMAL)


def merge_layouts(a: Layout, b: Layout, a_writes: bool, b_writes: bool) -> Layout | None:
    """The one layout serving two accesses of a subresource in one pass, or None if there is none.

    Equal layouts merge. A depth read-only layout also serves sampling and input-attachment reads
    (the read-only depth + sampled pattern). A depth attachment write already reads depth, so a
    depth-test read merges into it.
    """
    if a == b:
        return a
    for x, y, y_writes in ((a, b, b_writes), (b, a, a_writes)):
        if x in _DEPTH_READ_ONLY and y == Layout.SHADER_READ_ONLY_OPTIMAL and not y_writes:
            return x
        if x in _DEPTH_WRITABLE and y in _DEPTH_READ_ONLY:
            return x
    return None
