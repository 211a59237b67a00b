"""Vulkan's own enum numbers, defined here so the pure core never imports `vulkan`.

Flags know their full Vulkan names, so plans serialise as `VK_PIPELINE_STAGE_2_..._BIT` lists and
parse back. Only the values the engine uses are listed.
"""
from __future__ import annotations

import enum


_PREFIX = {"Stage": "VK_PIPELINE_STAGE_2_", "Access": "VK_ACCESS_2_", "ImageUsage": "VK_IMAGE_USAGE_",
           "BufferUsage": "VK_BUFFER_USAGE_"}
_BITS_CACHE: dict = {}


class _NamedFlag(enum.IntFlag):
    """An IntFlag whose members render as full Vulkan names and parse from them."""

    @classmethod
    def full_name(cls, member: "_NamedFlag") -> str:
        return f"{_PREFIX[cls.__name__]}{member.name}_BIT"

    def names(self) -> list[str]:
        """Full Vulkan names of the single bits set, in bit order (empty list = NONE)."""
        cls = type(self)
        return [cls.full_name(m) for m in cls._single_bits() if m & self]

    @classmethod
    def _single_bits(cls):
        cached = _BITS_CACHE.get(cls)
        if cached is None:
            cached = [m for m in cls.__members__.values() if m.value and (m.value & (m.value - 1)) == 0]
            # Aliases (same value) appear once, under their first name.
            seen, unique = set(), []
            for m in sorted(cached, key=lambda m: m.value):
                if m.value not in seen:
                    seen.add(m.value)
                    unique.append(m)
            cached = unique
            _BITS_CACHE[cls] = cached
        return cached

    @classmethod
    def from_names(cls, names) -> "_NamedFlag":
        value = cls(0)
        for n in names:
            short = n
            prefix = _PREFIX[cls.__name__]
            if short.startswith(prefix):
                short = short[len(prefix):]
            if short.endswith("_BIT"):
                short = short[:-4]
            try:
                value |= cls[short]
            except KeyError:
                raise ValueError(f"unknown {cls.__name__} name {n!r}") from None
        return value


class Stage(_NamedFlag):
    NONE = 0
    TOP_OF_PIPE = 0x1
    DRAW_INDIRECT = 0x2
    VERTEX_INPUT = 0x4
    VERTEX_SHADER = 0x8
    TESSELLATION_CONTROL_SHADER = 0x10
    TESSELLATION_EVALUATION_SHADER = 0x20
    GEOMETRY_SHADER = 0x40
    FRAGMENT_SHADER = 0x80
    EARLY_FRAGMENT_TESTS = 0x100
    LATE_FRAGMENT_TESTS = 0x200
    COLOR_ATTACHMENT_OUTPUT = 0x400
    COMPUTE_SHADER = 0x800
    ALL_TRANSFER = 0x1000
    BOTTOM_OF_PIPE = 0x2000
    HOST = 0x4000
    ALL_GRAPHICS = 0x8000
    ALL_COMMANDS = 0x10000
    COPY = 0x100000000
    RESOLVE = 0x200000000
    BLIT = 0x400000000
    CLEAR = 0x800000000
    INDEX_INPUT = 0x1000000000
    VERTEX_ATTRIBUTE_INPUT = 0x2000000000
    PRE_RASTERIZATION_SHADERS = 0x4000000000




class Access(_NamedFlag):
    NONE = 0
    INDIRECT_COMMAND_READ = 0x1
    INDEX_READ = 0x2
    VERTEX_ATTRIBUTE_READ = 0x4
    UNIFORM_READ = 0x8
    INPUT_ATTACHMENT_READ = 0x10
    SHADER_READ = 0x20
    SHADER_WRITE = 0x40
    COLOR_ATTACHMENT_READ = 0x80
    COLOR_ATTACHMENT_WRITE = 0x100
    DEPTH_STENCIL_ATTACHMENT_READ = 0x200
    DEPTH_STENCIL_ATTACHMENT_WRITE = 0x400
    TRANSFER_READ = 0x800
    TRANSFER_WRITE = 0x1000
    HOST_READ = 0x2000
    HOST_WRITE = 0x4000
    MEMORY_READ = 0x8000
    MEMORY_WRITE = 0x10000
    SHADER_SAMPLED_READ = 0x100000000
    SHADER_STORAGE_READ = 0x200000000
    SHADER_STORAGE_WRITE = 0x400000000



WRITE_ACCESS = (Access.SHADER_WRITE | Access.COLOR_ATTACHMENT_WRITE | Access.DEPTH_STENCIL_ATTACHMENT_WRITE
                | Access.TRANSFER_WRITE | Access.HOST_WRITE | Access.MEMORY_WRITE | Access.SHADER_STORAGE_WRITE)


class ImageUsage(_NamedFlag):
    TRANSFER_SRC = 0x1
    TRANSFER_DST = 0x2
    SAMPLED = 0x4
    STORAGE = 0x8
    COLOR_ATTACHMENT = 0x10
    DEPTH_STENCIL_ATTACHMENT = 0x20
    TRANSIENT_ATTACHMENT = 0x40
    INPUT_ATTACHMENT = 0x80




class BufferUsage(_NamedFlag):
    TRANSFER_SRC = 0x1
    TRANSFER_DST = 0x2
    UNIFORM_TEXEL_BUFFER = 0x4
    STORAGE_TEXEL_BUFFER = 0x8
    UNIFORM_BUFFER = 0x10
    STORAGE_BUFFER = 0x20
    INDEX_BUFFER = 0x40
    VERTEX_BUFFER = 0x80
    INDIRECT_BUFFER = 0x100




class Layout(enum.IntEnum):
    UNDEFINED = 0
    GENERAL = 1
    COLOR_ATTACHMENT_OPTIMAL = 2
    DEPTH_STENCIL_ATTACHMENT_OPTIMAL = 3
    DEPTH_STENCIL_READ_ONLY_OPTIMAL = 4
    SHADER_READ_ONLY_OPTIMAL = 5
    TRANSFER_SRC_OPTIMAL = 6
    TRANSFER_DST_OPTIMAL = 7
    PREINITIALIZED = 8
    DEPTH_ATTACHMENT_OPTIMAL = 1000241000
    DEPTH_READ_ONLY_OPTIMAL = 1000241001
    READ_ONLY_OPTIMAL = 1000314000
    ATTACHMENT_OPTIMAL = 1000314001
    PRESENT_SRC_KHR = 1000001002

    @property
    def full_name(self) -> str:
        return f"VK_IMAGE_LAYOUT_{self.name}"

    @classmethod
    def parse(cls, name: str) -> "Layout":
        short = name[len("VK_IMAGE_LAYOUT_"):] if name.startswith("VK_IMAGE_LAYOUT_") else name
        try:
            return cls[short.upper()]
        except KeyError:
            raise ValueError(f"unknown image layout {name!r}") from None


class Format(enum.IntEnum):
    """Formats with their Vulkan numbers; `texel_size` and aspects come from FORMAT_INFO."""
    UNDEFINED = 0
    R8_UNORM = 9
    R8G8_UNORM = 16
    R8G8B8A8_UNORM = 37
    R8G8B8A8_SRGB = 43
    B8G8R8A8_UNORM = 44
    B8G8R8A8_SRGB = 50
    A2B10G10R10_UNORM_PACK32 = 64
    R16_SFLOAT = 76
    R16G16_SFLOAT = 83
    R16G16B16A16_SFLOAT = 97
    R32_UINT = 98
    R32_SFLOAT = 100
    R32G32_SFLOAT = 103
    R32G32B32A32_SFLOAT = 109
    B10G11R11_UFLOAT_PACK32 = 122
    D16_UNORM = 124
    D32_SFLOAT = 126
    D24_UNORM_S8_UINT = 129
    D32_SFLOAT_S8_UINT = 130

    @property
    def full_name(self) -> str:
        return f"VK_FORMAT_{self.name}"

    @classmethod
    def parse(cls, name) -> "Format":
        if isinstance(name, Format):
            return name
        short = name[len("VK_FORMAT_"):] if name.startswith("VK_FORMAT_") else name
        try:
            return cls[short.upper()]
        except KeyError:
            raise ValueError(f"unknown or unsupported format {name!r}") from None

    @property
    def texel_size(self) -> int:
        return _TEXEL_SIZE[self]

    @property
    def has_depth(self) -> bool:
        return self in (Format.D16_UNORM, Format.D32_SFLOAT, Format.D24_UNORM_S8_UINT, Format.D32_SFLOAT_S8_UINT)

    @property
    def has_stencil(self) -> bool:
        return self in (Format.D24_UNORM_S8_UINT, Format.D32_SFLOAT_S8_UINT)


_TEXEL_SIZE = {
    Format.UNDEFINED: 0, Format.R8_UNORM: 1, Format.R8G8_UNORM: 2, Format.R8G8B8A8_UNORM: 4,
    Format.R8G8B8A8_SRGB: 4, Format.B8G8R8A8_UNORM: 4, Format.B8G8R8A8_SRGB: 4,
    Format.A2B10G10R10_UNORM_PACK32: 4, Format.R16_SFLOAT: 2, Format.R16G16_SFLOAT: 4,
    Format.R16G16B16A16_SFLOAT: 8, Format.R32_UINT: 4, Format.R32_SFLOAT: 4, Format.R32G32_SFLOAT: 8,
    Format.R32G32B32A32_SFLOAT: 16, Format.B10G11R11_UFLOAT_PACK32: 4, Format.D16_UNORM: 2,
    Format.D32_SFLOAT: 4, Format.D24_UNORM_S8_UINT: 4, Format.D32_SFLOAT_S8_UINT: 8,
}


def flag_maker(cls):
    """`cls(value)` memoized per value: building an IntFlag costs about a microsecond, and the
    compiler turns the same few plain-int masks into flags thousands of times per frame."""
    made: dict[int, object] = {}

    def make(value: int):
        f = made.get(value)
        if f is None:
            f = made[value] = cls(value)
        return f
    return make


as_stage = flag_maker(Stage)
as_access = flag_maker(Access)
