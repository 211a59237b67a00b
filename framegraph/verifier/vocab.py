"""The Vulkan synchronization2 vocabulary the verifier needs, as tables and pure functions.

Masks are plain ints: a *stage mask* has one bit per concrete stage (STAGES), an *access mask* one
bit per concrete access type (ACCESSES), and a *pair mask* one bit per (stage, access) combination.
Access scopes are pair masks ("these access types, performed in these stages"), which lets a
visibility check be one subset test.  Nothing here knows about plans; nothing imports `vulkan`.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Concrete stages, bit i = STAGES[i].  XFER is the verifier's own pseudo-stage for the work that a
# barrier does itself (layout transitions, queue family release/acquire): it is in no pipeline, so of
# all the stage names only ALL_COMMANDS covers it (without VK_KHR_maintenance8 nothing narrower does).
STAGES = (
    "TOP_OF_PIPE", "DRAW_INDIRECT", "INDEX_INPUT", "VERTEX_ATTRIBUTE_INPUT", "VERTEX_SHADER",
    "TESSELLATION_CONTROL_SHADER", "TESSELLATION_EVALUATION_SHADER", "GEOMETRY_SHADER",
    "EARLY_FRAGMENT_TESTS", "FRAGMENT_SHADER", "LATE_FRAGMENT_TESTS", "COLOR_ATTACHMENT_OUTPUT",
    "COMPUTE_SHADER", "COPY", "BLIT", "RESOLVE", "CLEAR", "HOST", "BOTTOM_OF_PIPE", "XFER",
)
N_STAGES = len(STAGES)
STAGE_BIT = {name: 1 << i for i, name in enumerate(STAGES)}
TOP, BOTTOM, HOST, XFER = (STAGE_BIT[s] for s in ("TOP_OF_PIPE", "BOTTOM_OF_PIPE", "HOST", "XFER"))
ALL_STAGES = (1 << N_STAGES) - 1
# Stages in which no memory access is ever performed by a pass.
NO_WORK = TOP | BOTTOM | XFER

# Logical order within each pipeline type (spec "Pipeline Stages" ordering).  TOP_OF_PIPE begins and
# BOTTOM_OF_PIPE ends every one of them; HOST and XFER are in none, so nothing is ordered around them
# implicitly.
_GRAPHICS = ("DRAW_INDIRECT", "INDEX_INPUT", "VERTEX_ATTRIBUTE_INPUT", "VERTEX_SHADER",
             "TESSELLATION_CONTROL_SHADER", "TESSELLATION_EVALUATION_SHADER", "GEOMETRY_SHADER",
             "EARLY_FRAGMENT_TESTS", "FRAGMENT_SHADER", "LATE_FRAGMENT_TESTS", "COLOR_ATTACHMENT_OUTPUT")
PIPELINES = (_GRAPHICS, ("DRAW_INDIRECT", "COMPUTE_SHADER"), ("COPY",), ("BLIT",), ("RESOLVE",), ("CLEAR",))

_TRANSFER = ("COPY", "BLIT", "RESOLVE", "CLEAR")
META_STAGES = {
    "NONE": (),
    # Every stage a queue supports (the spec's table lists HOST for all queue types), and the work
    # barriers do themselves (XFER).
    "ALL_COMMANDS": STAGES,
    "ALL_GRAPHICS": _GRAPHICS,
    "VERTEX_INPUT": ("INDEX_INPUT", "VERTEX_ATTRIBUTE_INPUT"),
    "PRE_RASTERIZATION_SHADERS": ("VERTEX_SHADER", "TESSELLATION_CONTROL_SHADER",
                                  "TESSELLATION_EVALUATION_SHADER", "GEOMETRY_SHADER"),
    "ALL_TRANSFER": _TRANSFER,
    "TRANSFER": _TRANSFER,
}
_NAMEABLE_STAGES = {s: STAGE_BIT[s] for s in STAGES if s != "XFER"}
_NAMEABLE_STAGES.update({m: sum(STAGE_BIT[s] for s in ss) for m, ss in META_STAGES.items()})

ACCESSES = (
    "INDIRECT_COMMAND_READ", "INDEX_READ", "VERTEX_ATTRIBUTE_READ", "UNIFORM_READ", "INPUT_ATTACHMENT_READ",
    "SHADER_SAMPLED_READ", "SHADER_STORAGE_READ", "SHADER_STORAGE_WRITE", "COLOR_ATTACHMENT_READ",
    "COLOR_ATTACHMENT_WRITE", "DEPTH_STENCIL_ATTACHMENT_READ", "DEPTH_STENCIL_ATTACHMENT_WRITE",
    "TRANSFER_READ", "TRANSFER_WRITE", "HOST_READ", "HOST_WRITE",
)
N_ACCESSES = len(ACCESSES)
ACCESS_BIT = {name: 1 << i for i, name in enumerate(ACCESSES)}
READS = sum(b for n, b in ACCESS_BIT.items() if n.endswith("_READ"))
WRITES = sum(b for n, b in ACCESS_BIT.items() if n.endswith("_WRITE"))
ALL_ACCESSES = READS | WRITES
META_ACCESSES = {
    "NONE": 0,
    "MEMORY_READ": READS,
    "MEMORY_WRITE": WRITES,
    # Per the brief: uniform reads are not shader reads here (sync2 lists UNIFORM_READ separately).
    "SHADER_READ": ACCESS_BIT["SHADER_SAMPLED_READ"] | ACCESS_BIT["SHADER_STORAGE_READ"],
    "SHADER_WRITE": ACCESS_BIT["SHADER_STORAGE_WRITE"],
}
_NAMEABLE_ACCESSES = {**ACCESS_BIT, **META_ACCESSES}

# The stages each concrete access type can be performed in (VUID-VkImageMemoryBarrier2-srcAccessMask-03900
# and its siblings): an access bit in a barrier whose stage mask holds none of these is invalid usage.
_SHADERS = ("VERTEX_SHADER", "TESSELLATION_CONTROL_SHADER", "TESSELLATION_EVALUATION_SHADER", "GEOMETRY_SHADER",
            "FRAGMENT_SHADER", "COMPUTE_SHADER")
_ACCESS_STAGE_NAMES = {
    "INDIRECT_COMMAND_READ": ("DRAW_INDIRECT",), "INDEX_READ": ("INDEX_INPUT",),
    "VERTEX_ATTRIBUTE_READ": ("VERTEX_ATTRIBUTE_INPUT",), "UNIFORM_READ": _SHADERS,
    "INPUT_ATTACHMENT_READ": ("FRAGMENT_SHADER",), "SHADER_SAMPLED_READ": _SHADERS,
    "SHADER_STORAGE_READ": _SHADERS, "SHADER_STORAGE_WRITE": _SHADERS,
    "COLOR_ATTACHMENT_READ": ("COLOR_ATTACHMENT_OUTPUT",), "COLOR_ATTACHMENT_WRITE": ("COLOR_ATTACHMENT_OUTPUT",),
    "DEPTH_STENCIL_ATTACHMENT_READ": ("EARLY_FRAGMENT_TESTS", "LATE_FRAGMENT_TESTS"),
    "DEPTH_STENCIL_ATTACHMENT_WRITE": ("EARLY_FRAGMENT_TESTS", "LATE_FRAGMENT_TESTS"),
    "TRANSFER_READ": _TRANSFER, "TRANSFER_WRITE": _TRANSFER, "HOST_READ": ("HOST",), "HOST_WRITE": ("HOST",),
}
ACCESS_STAGES = {a: sum(STAGE_BIT[s] for s in ss) for a, ss in _ACCESS_STAGE_NAMES.items()}
ACCESS_STAGES.update({"SHADER_READ": sum(STAGE_BIT[s] for s in _SHADERS),
                      "SHADER_WRITE": sum(STAGE_BIT[s] for s in _SHADERS)})


def unsupported_accesses(access_names_: tuple, stage_mask: int) -> list[str]:
    """Access flag names that no stage in `stage_mask` can perform (meta flags are always fine)."""
    bad = []
    for n in access_names_:
        short = n[len("VK_ACCESS_2_"):] if n.startswith("VK_ACCESS_2_") else n
        short = short[:-4] if short.endswith("_BIT") else short
        need = ACCESS_STAGES.get(short)
        if need is not None and not need & stage_mask:
            bad.append(short)
    return bad


def _order_tables() -> tuple[list[int], list[int]]:
    earlier, later = [0] * N_STAGES, [0] * N_STAGES
    for pipe in PIPELINES:
        chain = ("TOP_OF_PIPE",) + pipe + ("BOTTOM_OF_PIPE",)
        for i, stage in enumerate(chain):
            k = STAGES.index(stage)
            earlier[k] |= sum(STAGE_BIT[s] for s in chain[:i])
            later[k] |= sum(STAGE_BIT[s] for s in chain[i + 1:])
    return earlier, later


_EARLIER, _LATER = _order_tables()


@lru_cache(maxsize=None)
def bit_indices(mask: int) -> tuple[int, ...]:
    return tuple(i for i in range(mask.bit_length()) if mask >> i & 1)


@lru_cache(maxsize=None)
def src_scope(stages: int) -> int:
    """First execution scope of a source stage mask: the stages and all logically earlier ones.
    TOP_OF_PIPE as a source means no stage at all."""
    out = 0
    for i in bit_indices(stages):
        out |= 1 << i | _EARLIER[i]
    return out & ~TOP


@lru_cache(maxsize=None)
def dst_scope(stages: int) -> int:
    """Second execution scope of a destination stage mask: the stages and all logically later ones.
    BOTTOM_OF_PIPE as a destination means no stage at all."""
    out = 0
    for i in bit_indices(stages):
        out |= 1 << i | _LATER[i]
    return out & ~BOTTOM


@lru_cache(maxsize=None)
def pairs(stages: int, access: int) -> int:
    """The (stage, access) pair mask of `access` performed in each of `stages`."""
    out = 0
    for i in bit_indices(stages):
        out |= access << (i * N_ACCESSES)
    return out


@lru_cache(maxsize=None)
def write_groups(stages: int, access: int) -> tuple[int, ...]:
    """One pair mask per write type of an access: a write counts as made available when, for each of
    its write types, some stage it ran in is in the barrier's source access scope."""
    return tuple(pairs(stages, 1 << i) for i in bit_indices(access & WRITES))


_STAGE_RE = re.compile(r"^(?:VK_PIPELINE_STAGE_(?:2_)?)?(?P<n>[A-Z0-9_]+?)(?:_BIT)?(?:_KHR|_EXT|_NV)?$")
_ACCESS_RE = re.compile(r"^(?:VK_ACCESS_(?:2_)?)?(?P<n>[A-Z0-9_]+?)(?:_BIT)?(?:_KHR|_EXT|_NV)?$")


def _parse(names, regex, table) -> tuple[int, tuple[str, ...]]:
    mask, unknown = 0, []
    for name in names:
        m = regex.match(str(name))
        bits = table.get(m.group("n")) if m else None
        if bits is None:
            unknown.append(str(name))
        else:
            mask |= bits
    return mask, tuple(unknown)


@lru_cache(maxsize=4096)
def parse_stages(names: tuple) -> tuple[int, tuple[str, ...]]:
    """Stage names (meta stages expanded) -> (stage mask, names not understood)."""
    return _parse(names, _STAGE_RE, _NAMEABLE_STAGES)


@lru_cache(maxsize=4096)
def parse_access(names: tuple) -> tuple[int, tuple[str, ...]]:
    """Access names (meta accesses expanded) -> (access mask, names not understood)."""
    return _parse(names, _ACCESS_RE, _NAMEABLE_ACCESSES)


UNDEFINED = "VK_IMAGE_LAYOUT_UNDEFINED"


def norm_layout(name) -> str | None:
    """Layouts compare by name; the _KHR spelling of a promoted layout is the same layout."""
    if name is None:
        return None
    name = str(name)
    if not name.startswith("VK_IMAGE_LAYOUT_"):
        name = "VK_IMAGE_LAYOUT_" + name.upper()
    return name[:-4] if name.endswith("_KHR") else name


def short_layout(name: str | None) -> str:
    return "?" if name is None else name.removeprefix("VK_IMAGE_LAYOUT_")


def stage_names(mask: int) -> str:
    names = [STAGES[i] for i in bit_indices(mask & ~XFER)]
    return "|".join(names) if names else "NONE"


def access_names(mask: int) -> str:
    names = [ACCESSES[i] for i in bit_indices(mask)]
    return "|".join(names) if names else "NONE"
