"""Declaring a frame: resources, passes and their accesses, as frozen data.

`FrameGraph` is the builder users call every frame (Daxa-style prose: `reads`, `writes`,
`execute`); `Graph` is the immutable result the compiler consumes and the JSON file describes.
Handles are versioned: a write returns a new handle and using the old one afterwards is an error.
The builder also keeps the frame's structural key as it goes (`FrameGraph.structural_key()`), so a
plan cache can tell a re-declared frame from a changed one without freezing or walking the graph.
Every value is checked where it is declared (docs/formats.md, "Limits"): the descriptors refuse
what Vulkan could not create, and `reads()`/`writes()` raise before they record anything. What passed
is memoized by its arguments (validated resources, access checks, handles; see "memos" below), so
re-declaring the same frame costs lookups, and a bad argument still raises at the same call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from .access import ACCESS_TABLE, AccessInfo, lookup
from .errors import FrameGraphError, show_value, expect_bool, expect_int, expect_name, known_names
from .vk import Format, Stage

QUEUES = ("graphics", "compute", "transfer")

# Limits (docs/formats.md): the portable maxima of desktop Vulkan drivers, so a graph that passes
# here can be created on the GPUs the engine targets, and the compiler's per-subresource work
# (mips x layers units per image) stays bounded.
MAX_EXTENT = 16384                  # width and height (maxImageDimension2D)
MAX_DEPTH = 2048                    # depth of a 3D image (maxImageDimension3D)
MAX_MIPS = MAX_EXTENT.bit_length()  # a full chain of a 16384 image: 15
MAX_LAYERS = 2048                   # maxImageArrayLayers
SAMPLE_COUNTS = (1, 2, 4, 8, 16, 32, 64)
MAX_BUFFER_SIZE = 1 << 40           # 1 TiB: above any device's heap, far below int overflow anywhere
SHARING_MODES = ("exclusive", "concurrent")

# What a pass on each logical queue may do: a compute queue has no graphics pipeline, a transfer
# queue only copies (Vulkan's "supported pipeline stage flags" per queue capability). Declared here,
# not per device, so a graph valid on lavapipe (one queue does everything) is valid everywhere.
_ANYWHERE = Stage.NONE | Stage.TOP_OF_PIPE | Stage.BOTTOM_OF_PIPE | Stage.ALL_COMMANDS | Stage.HOST
_TRANSFER_STAGES = _ANYWHERE | Stage.ALL_TRANSFER | Stage.COPY | Stage.CLEAR
QUEUE_STAGES = {"graphics": ~Stage.NONE, "compute": _TRANSFER_STAGES | Stage.COMPUTE_SHADER | Stage.DRAW_INDIRECT,
                "transfer": _TRANSFER_STAGES}
_RUNS_ON = {(name, queue): not info.stages & ~allowed
            for name, info in ACCESS_TABLE.items() for queue, allowed in QUEUE_STAGES.items()}


def _format(value) -> Format:
    if isinstance(value, Format):
        fmt = value
    elif isinstance(value, str):
        try:
            fmt = Format.parse(value)
        except ValueError:
            raise FrameGraphError(f"unknown or unsupported format {show_value(value)}", field="format") from None
    else:
        raise FrameGraphError(f"must be a format name such as 'VK_FORMAT_R8G8B8A8_UNORM', got {show_value(value)}",
                              field="format")
    if fmt == Format.UNDEFINED:
        raise FrameGraphError("VK_FORMAT_UNDEFINED is not a format an image can have", field="format")
    return fmt


def _extent(value) -> tuple[int, int, int]:
    """1 to 3 positive sizes; missing height and depth are 1 (a 1D or 2D image)."""
    if isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__len__") or not 1 <= len(value) <= 3:
        raise FrameGraphError(f"must be [width, height, depth]: 1 to 3 positive integers, got {show_value(value)}",
                              field="extent")
    limits = (MAX_EXTENT, MAX_EXTENT, MAX_DEPTH)
    ext = [expect_int(v, "extent", 1, limit) for v, limit in zip(value, limits)]
    return (*ext, *(1,) * (3 - len(ext)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageDesc:
    format: Format
    extent: tuple[int, int, int]
    mips: int = 1
    layers: int = 1
    samples: int = 1

    def __post_init__(self):
        ext = _extent(self.extent)
        mips = expect_int(self.mips, "mips", 1, MAX_MIPS)
        if mips > max(ext).bit_length():
            raise FrameGraphError(f"{mips} mips is more than a {'x'.join(map(str, ext))} image has "
                                  f"(at most {max(ext).bit_length()})", field="mips")
        layers = expect_int(self.layers, "layers", 1, MAX_LAYERS)
        samples = expect_int(self.samples, "samples", 1, SAMPLE_COUNTS[-1])
        if samples not in SAMPLE_COUNTS:
            raise FrameGraphError(f"{samples} is not a sample count (one of {list(SAMPLE_COUNTS)})", field="samples")
        # Vulkan's image creation rules: multisampled images are 2D with one mip; 3D images have one layer.
        if samples > 1 and (mips > 1 or ext[2] > 1):
            raise FrameGraphError("a multisampled image has one mip and depth 1", field="samples")
        if ext[2] > 1 and layers > 1:
            raise FrameGraphError("a 3D image (depth > 1) has one layer", field="layers")
        for name, value in (("format", _format(self.format)), ("extent", ext), ("mips", mips), ("layers", layers),
                            ("samples", samples)):
            object.__setattr__(self, name, value)

    @property
    def kind(self) -> str:
        return "image"

    def byte_size_estimate(self) -> int:
        """Texel bytes over all mips and layers (the offline memory estimate; devices may pad)."""
        w, h, d = self.extent
        total = 0
        for m in range(self.mips):
            total += max(1, w >> m) * max(1, h >> m) * max(1, d >> m)
        return total * self.layers * self.samples * self.format.texel_size


@dataclass(frozen=True, slots=True, kw_only=True)
class BufferDesc:
    size: int

    def __post_init__(self):
        object.__setattr__(self, "size", expect_int(self.size, "size", 1, MAX_BUFFER_SIZE))

    @property
    def kind(self) -> str:
        return "buffer"

    def byte_size_estimate(self) -> int:
        return self.size


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceDecl:
    """A resource of the frame. Transient unless imported; history resources are imported ones
    whose state carries over from the previous frame (initial == final)."""
    name: str
    desc: ImageDesc | BufferDesc
    imported: bool = False
    swapchain: bool = False
    history: bool = False
    initial: str = "undefined"
    final: str | None = None
    sharing: str = "exclusive"

    def __post_init__(self):
        expect_name(self.name)
        where = {"resource": self.name}
        if not isinstance(self.desc, (ImageDesc, BufferDesc)):
            raise FrameGraphError(f"needs an ImageDesc or a BufferDesc, got {show_value(self.desc)}", field="desc", **where)
        for flag in ("imported", "swapchain", "history"):
            expect_bool(getattr(self, flag), flag, **where)
        if self.sharing not in SHARING_MODES:
            raise FrameGraphError(f"must be one of {list(SHARING_MODES)}, got {show_value(self.sharing)}", field="sharing",
                                  **where)
        is_image = isinstance(self.desc, ImageDesc)
        if self.swapchain and not is_image:
            raise FrameGraphError("a swapchain resource must be an image", field="swapchain", **where)
        if self.swapchain and (self.desc.mips, self.desc.layers, self.desc.samples) != (1, 1, 1):
            # What vkCreateSwapchainKHR makes here: one mip, one sample, one layer (no stereo).
            raise FrameGraphError("a swapchain image has one mip, one layer and one sample", field="swapchain", **where)
        if (self.swapchain or self.history) and not self.imported:
            raise FrameGraphError("swapchain and history resources are imported", field="imported", **where)
        initial = self._state("initial", allow_undefined=True)
        final = None if self.final is None else self._state("final", allow_undefined=False)
        if not self.imported and (initial != "undefined" or final is not None):
            raise FrameGraphError("only imported resources have initial and final states", field="initial", **where)
        if self.swapchain and initial not in ("undefined", "present"):
            raise FrameGraphError("a swapchain image is acquired from the presentation engine: its initial state "
                                  "is 'undefined' or 'present'", field="initial", **where)
        if self.history and (initial == "undefined" or initial != final):
            raise FrameGraphError("a history resource ends each frame in the defined state it starts in "
                                  "(initial == final, not undefined)", field="final", **where)
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "final", final)

    def _state(self, key: str, *, allow_undefined: bool) -> str:
        """An `initial`/`final` access name, in its canonical spelling, valid for this resource's kind."""
        where = {"resource": self.name, "field": key}
        name = getattr(self, key)
        if not isinstance(name, str):
            raise FrameGraphError(f"must be an access name, got {show_value(name)}", **where)
        if name.strip().lower() == "undefined":
            if not allow_undefined:
                raise FrameGraphError("cannot be 'undefined' (the frame must leave the resource in a defined "
                                      "state; omit it to keep the state of the last access)", **where)
            return "undefined"
        info = lookup(name, resource=self.name)
        _check_kind(info, self, key)
        return info.name

    @property
    def kind(self) -> str:
        return self.desc.kind

    @property
    def transient(self) -> bool:
        return not self.imported


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessDecl:
    """One declared access. Ranges are `(base, count)`; None means the whole resource."""
    resource: str
    access: str
    mips: tuple[int, int] | None = None
    layers: tuple[int, int] | None = None
    range: tuple[int, int] | None = None
    discard: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PassDecl:
    name: str
    queue: str = "graphics"
    accesses: tuple[AccessDecl, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    """The structural description of one frame: what the compiler and the JSON file see."""
    name: str
    resources: tuple[ResourceDecl, ...]
    passes: tuple[PassDecl, ...]
    outputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Handle:
    """A version of a resource. Writes return the next version; older versions are stale."""
    name: str
    version: int = 0


def _lookup(name, field: str, **where) -> AccessInfo:
    if not isinstance(name, str):
        raise FrameGraphError(f"must be an access name, got {show_value(name)}", field=field, **where)
    try:
        return lookup(name)
    except FrameGraphError as e:
        raise FrameGraphError(e.message, field=field, **where) from None


def _check_kind(info: AccessInfo, decl: ResourceDecl, field: str, pass_name: str | None = None) -> None:
    """An image access (a layout) on an image, a buffer access (a usage) on a buffer."""
    if isinstance(decl.desc, ImageDesc) and info.layout is None:
        raise FrameGraphError(f"'{info.name}' is a buffer access, '{decl.name}' is an image", pass_name=pass_name,
                              resource=decl.name, field=field)
    if isinstance(decl.desc, BufferDesc) and info.buffer_usage is None:
        raise FrameGraphError(f"'{info.name}' is an image access, '{decl.name}' is a buffer", pass_name=pass_name,
                              resource=decl.name, field=field)


def _span(value, field: str, total: int, unit: str, pass_name: str | None, resource: str
          ) -> tuple[int, int] | None:
    """A `(base, count)` inside `[0, total)`; an int is one element; None (or the whole) is None."""
    if value is None:
        return None
    # The common spellings, a tuple of two ints or one int, in range, need none of expect_int's
    # conversions; anything else (or out of range) goes through the checks below, which say what is wrong.
    if type(value) is tuple and len(value) == 2:
        base, count = value
        if type(base) is int and type(count) is int and base >= 0 and count >= 1 and base + count <= total:
            return None if base == 0 and count == total else value
    elif type(value) is int and 0 <= value < total:
        return None if total == 1 else (value, 1)
    where = {"pass_name": pass_name, "resource": resource}
    if isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__len__") or len(value) != 2:
        if _is_index(value):
            value = (value, 1)
        else:
            raise FrameGraphError(f"must be [base, count] integers, got {show_value(value)}", field=field, **where)
    base = expect_int(value[0], field, 0, total - 1, **where)
    count = expect_int(value[1], field, 1, total, **where)
    if base + count > total:
        raise FrameGraphError(f"[{base}, {count}] is out of range (the resource has {total} {unit})", field=field,
                              **where)
    # A range spelled out in full is the same access as no range: stored the one way, so the
    # structural key (and the plan cache) sees them as equal.
    return None if (base, count) == (0, total) else (base, count)


def _is_index(value) -> bool:
    return not isinstance(value, bool) and type(value).__name__ != "bool_" and hasattr(type(value), "__index__")


# -- memos of declarations that passed their checks ---------------------------------------------
# A frame is re-declared every frame with the same arguments, and everything checked about a
# resource or an access depends on those arguments alone, so what passed is kept by its arguments
# and a repeat is one dict lookup. Rules that keep a memo from ever answering for a call that would
# raise, or that would build something else:
# - only what passed goes in: a failing call is never in a table, so it fails again every time;
# - every argument the result depends on is in the key, with the method it came through;
# - only exact builtin types make a key (anything else takes the checking path every time): values
#   of other types can compare equal to a valid argument while checking differently (True == 1, an
#   int == the Format member of that value, 256.0 == 256, a numpy int), and a list is unhashable;
# - the results are immutable (frozen dataclasses, tuples, strs), so frames can share them;
# - each table is cleared when it reaches MAX_MEMO entries: bounded whatever the frames do.
MAX_MEMO = 4096
MAX_MEMO_VERSIONS = 64                 # handles kept per resource name: versions 0 to 63
_resource_memo: dict[tuple, tuple[ResourceDecl, tuple]] = {}   # arguments -> (decl, _resource_key(decl))
_access_memo: dict[tuple, str] = {}    # (access, desc type, queue, discard, writes) -> canonical access name
_handle_memo: dict[str, tuple[Handle, ...]] = {}    # resource name -> its handles, by version


def _remember(memo: dict, key, value) -> None:
    if len(memo) >= MAX_MEMO:
        memo.clear()
    memo[key] = value


def _handle(name: str, version: int) -> Handle:
    """`Handle(name, version)`. Handles are immutable values and a frame makes the same ones every
    frame, so they are shared (building a frozen dataclass costs more than finding it)."""
    if type(name) is not str:      # a str subclass stays what the user gave
        return Handle(name, version)
    handles = _handle_memo.get(name, ())
    if version < len(handles):
        return handles[version]
    handle = Handle(name, version)
    # Versions come in order from 0. A new tuple replaces the old one (never a list appended to),
    # so frames declared on several threads cannot leave a handle at another version's index.
    if version == len(handles) and version < MAX_MEMO_VERSIONS:
        _remember(_handle_memo, name, handles + (handle,))
    return handle


def _image_key(method: str, name, format, extent, mips, layers, samples) -> tuple | None:
    """The memo key of an image declaration, or None when an argument is not of a plain type."""
    if type(extent) is list:
        extent = tuple(extent)
    elif type(extent) is not tuple:
        return None
    for size in extent:
        if type(size) is not int:
            return None
    # A Format member and an int compare equal, but ints are refused as formats: only str and Format.
    if (type(name) is not str or (type(format) is not str and type(format) is not Format) or type(mips) is not int
            or type(layers) is not int or type(samples) is not int):
        return None
    return (method, name, format, extent, mips, layers, samples)


def _states_plain(initial, final) -> bool:
    return type(initial) is str and (final is None or type(final) is str)


def check_access(decl: ResourceDecl, access, *, mips=None, layers=None, range=None, discard=False,
                 pass_name: str | None = None, queue: str = "graphics"
                 ) -> tuple[AccessInfo, tuple | None, tuple | None, tuple | None, bool]:
    """One access of `decl` by a pass on `queue`, checked against the resource and the queue before
    anything records it: (table row, mips, layers, range, discard) with ranges normalised. The
    builder and the graph file both declare accesses through here, once per access per frame, so the
    common case (a canonical name, no ranges) takes a few dict lookups."""
    info = ACCESS_TABLE.get(access) if type(access) is str else None
    if info is None:
        info = _lookup(access, "access", pass_name=pass_name, resource=decl.name)
    if discard is not False and discard is not True:
        discard = expect_bool(discard, "discard", pass_name=pass_name, resource=decl.name)
    desc = decl.desc
    is_image = type(desc) is ImageDesc
    if (info.layout if is_image else info.buffer_usage) is None:
        _check_kind(info, decl, "access", pass_name)
    if not info.stages:
        # `present` (no stage, no access): what vkQueuePresentKHR does after the frame, not work a pass does.
        raise FrameGraphError(f"'{info.name}' is not an access a pass performs: it is an imported image's "
                              "final (or initial) state", pass_name=pass_name, resource=decl.name, field="access")
    if not _RUNS_ON[info.name, queue]:
        stages = "|".join(n.removeprefix("VK_PIPELINE_STAGE_2_").removesuffix("_BIT")
                          for n in Stage(info.stages & ~QUEUE_STAGES[queue]).names())
        raise FrameGraphError(f"'{info.name}' runs in {stages}, which a {queue} queue cannot execute",
                              pass_name=pass_name, resource=decl.name, field="access")
    if mips is not None or layers is not None or range is not None:
        mips, layers, range = check_ranges(decl, mips, layers, range, pass_name)
    if discard and not info.writes:
        raise FrameGraphError(f"discard on '{info.name}', which does not write", pass_name=pass_name,
                              resource=decl.name, field="discard")
    return info, mips, layers, range, discard


def check_ranges(decl: ResourceDecl, mips, layers, range, pass_name: str | None = None
                 ) -> tuple[tuple | None, tuple | None, tuple | None]:
    """An access's ranges (mips, layers or a byte range), checked against the resource and
    normalised (see _span). Separate from check_access because they depend on the resource's size:
    the builder checks only these for an access whose other checks it has memoized."""
    desc = decl.desc
    if type(desc) is ImageDesc:
        if range is not None:
            raise FrameGraphError("a byte range is for buffers (images take mips and layers)", pass_name=pass_name,
                                  resource=decl.name, field="range")
        if mips is not None:
            mips = _span(mips, "mips", desc.mips, "mips", pass_name, decl.name)
        if layers is not None:
            layers = _span(layers, "layers", desc.layers, "layers", pass_name, decl.name)
    else:
        for key, value in (("mips", mips), ("layers", layers)):
            if value is not None:
                raise FrameGraphError(f"{key} are for images (buffers take a byte range)", pass_name=pass_name,
                                      resource=decl.name, field=key)
        if range is not None:
            range = _span(range, "range", desc.size, "bytes", pass_name, decl.name)
    return mips, layers, range


def check_pass_header(name, queue) -> None:
    expect_name(name)
    if not isinstance(queue, str) or queue not in QUEUES:
        raise FrameGraphError(f"unknown queue {show_value(queue)} (use one of {list(QUEUES)})", pass_name=name,
                              field="queue")


class PassBuilder:
    """Collects one pass's accesses; returned by `FrameGraph.add_pass`.

    Declaration order is program order, so only the newest pass declares accesses: adding the next
    pass closes this one (so does leaving its `with` block), and a closed builder raises. Otherwise
    an earlier pass could read a version that a later pass writes. Adding a pass inside another
    pass's `with` block raises too. `execute()` may still be called on a closed builder.
    """

    __slots__ = ("_graph", "name", "queue", "_accesses", "_entry_versions", "_open", "_in_with")

    def __init__(self, graph: "FrameGraph", name: str, queue: str):
        self._graph = graph
        self.name = name
        self.queue = queue
        # Plain tuples in AccessDecl's field order: they are this pass's part of the structural key,
        # and AccessDecls are built from them only when the graph is frozen (a cache hit never is).
        self._accesses: list[tuple] = []
        self._entry_versions: dict[str, int] = {}
        self._open = True
        self._in_with = False

    def _check(self, handle: Handle) -> int:
        """The version `handle`'s resource had when this pass first touched it (checks only; `_add`
        checks the usual handle inline and calls this for the rest, and to raise)."""
        if not isinstance(handle, Handle) or not isinstance(handle.name, str):
            raise FrameGraphError(f"expected a Handle, got {show_value(handle)}", pass_name=self.name)
        current = self._graph._versions.get(handle.name)
        if current is None:
            raise FrameGraphError("unknown resource", pass_name=self.name, resource=str(handle.name))
        entry = self._entry_versions.get(handle.name, current)
        # Inside one pass, reads and writes happen together: the version on entry and the ones
        # this pass produced are all current.
        if not (_is_index(handle.version) and entry <= handle.version <= current):
            raise FrameGraphError(f"stale handle (version {handle.version!r}, current {current}): "
                                  "use the handle returned by the latest write", pass_name=self.name,
                                  resource=handle.name)
        return entry

    def _add(self, handle, access, mips, layers, range, discard, writes: bool) -> None:
        """Check everything, then record: an access that raised leaves no trace."""
        if not self._open:
            raise FrameGraphError("pass is closed: a later pass was added or its with-block ended (declare a "
                                  "pass's accesses before adding the next pass)", pass_name=self.name)
        entry = None
        if type(handle) is Handle and type(handle.name) is str and type(handle.version) is int:
            # The usual handle, checked inline (calling _check costs as much as its checks);
            # whatever fails here goes through _check, which raises saying what is wrong.
            current = self._graph._versions.get(handle.name)
            if current is not None:
                entry = self._entry_versions.get(handle.name, current)
                if not entry <= handle.version <= current:
                    entry = None
        if entry is None:
            entry = self._check(handle)
        decl = self._graph._resources[handle.name]
        key = canonical = None
        # An access (name, kind of resource, queue, discard, read or write) in the memo passed all
        # its checks before; only its ranges, which depend on the resource's size, are left to check.
        if type(access) is str and (discard is False or discard is True):
            key = (access, type(decl.desc), self.queue, discard, writes)
            canonical = _access_memo.get(key)
        if canonical is not None:
            if mips is not None or layers is not None or range is not None:
                mips, layers, range = check_ranges(decl, mips, layers, range, self.name)
        else:
            info, mips, layers, range, discard = check_access(decl, access, mips=mips, layers=layers, range=range,
                                                              discard=discard, pass_name=self.name, queue=self.queue)
            if info.writes != writes:
                raise FrameGraphError(f"'{info.name}' writes: declare it with writes()" if info.writes else
                                      f"'{info.name}' only reads: declare it with reads()", pass_name=self.name,
                                      resource=handle.name, field="access")
            canonical = info.name
            if key is not None:
                _remember(_access_memo, key, canonical)
        self._entry_versions[handle.name] = entry
        self._accesses.append((handle.name, canonical, mips, layers, range, discard))

    def reads(self, handle: Handle, access: str, *, mips=None, layers=None, range=None) -> Handle:
        """Declare a read; returns `handle`. `mips`/`layers`: `(base, count)` or one index;
        `range`: a buffer's `(offset, size)` in bytes."""
        self._add(handle, access, mips, layers, range, False, writes=False)
        return handle

    def writes(self, handle: Handle, access: str, *, mips=None, layers=None, range=None,
               discard: bool = False) -> Handle:
        """Declare a write; returns the resource's next version. `discard=True`: the old contents
        are not needed (clear / DONT_CARE load)."""
        self._add(handle, access, mips, layers, range, discard, writes=True)
        versions = self._graph._versions
        version = versions[handle.name] = versions[handle.name] + 1
        return _handle(handle.name, version)

    def execute(self, callback: Callable) -> "PassBuilder":
        """The callback records the pass's commands later, given a backend context."""
        if not callable(callback):
            raise FrameGraphError(f"execute() takes a callable, got {show_value(callback)}", pass_name=self.name)
        self._graph.callbacks[self.name] = callback
        return self

    def __enter__(self):
        if not self._open:
            raise FrameGraphError("pass is closed: enter its with-block right after add_pass()", pass_name=self.name)
        self._in_with = True
        return self

    def __exit__(self, *exc):
        self._in_with = False
        self._open = False
        return False

    def decl(self) -> PassDecl:
        return PassDecl(name=self.name, queue=self.queue, accesses=tuple(
            AccessDecl(resource=r, access=a, mips=m, layers=l, range=b, discard=d)
            for r, a, m, l, b, d in self._accesses))


class FrameGraph:
    """Builder for one frame. Cheap to re-declare every frame; `graph()` freezes it."""

    def __init__(self, name: str = "frame"):
        self.name = expect_name(name, "name")
        self._resources: dict[str, ResourceDecl] = {}
        self._versions: dict[str, int] = {}
        self._passes: list[PassBuilder] = []
        self._pass_names: set[str] = set()
        self._outputs: list[str] = []
        self._resource_keys: list[tuple] = []
        self.callbacks: dict[str, Callable] = {}
        self.imports: dict[str, object] = {}

    def _add_resource(self, name, key: tuple | None, make: Callable[[], ResourceDecl], external=None) -> Handle:
        """Record a resource. `key`: the call's arguments for the memo (None: not memoizable). A hit
        was checked when it went in (its name too: the name is in the key); the duplicate check is
        this frame's, so it is always made."""
        known = _resource_memo.get(key)
        if known is None or name in self._resources:
            known = self._check_resource(name, key, make)
        decl, resource_key = known
        self._resources[decl.name] = decl
        self._resource_keys.append(resource_key)
        self._versions[decl.name] = 0
        if external is not None:
            self.imports[decl.name] = external
        return _handle(decl.name, 0)

    def _check_resource(self, name, key: tuple | None, make: Callable[[], ResourceDecl]) -> tuple:
        """Check the name, then build the declaration (its descriptors check themselves)."""
        expect_name(name, "name")
        if name in self._resources:
            raise FrameGraphError("duplicate resource name", resource=name)
        try:
            decl = make()
        except FrameGraphError as e:
            raise e.at(resource=name) from None
        known = (decl, _resource_key(decl))
        if key is not None:
            _remember(_resource_memo, key, known)
        return known

    def create_image(self, name: str, *, format, extent: Sequence[int], mips: int = 1, layers: int = 1,
                     samples: int = 1) -> Handle:
        key = _image_key("create_image", name, format, extent, mips, layers, samples)
        return self._add_resource(name, key, lambda: ResourceDecl(name=name, desc=ImageDesc(
            format=format, extent=extent, mips=mips, layers=layers, samples=samples)))

    def create_buffer(self, name: str, *, size: int) -> Handle:
        key = ("create_buffer", name, size) if type(name) is str and type(size) is int else None
        return self._add_resource(name, key, lambda: ResourceDecl(name=name, desc=BufferDesc(size=size)))

    def import_image(self, name: str, *, format, extent: Sequence[int], mips: int = 1, layers: int = 1,
                     samples: int = 1, initial: str = "undefined", final: str | None = None,
                     swapchain: bool = False, external=None) -> Handle:
        """An image owned outside the frame. `external` is what the backend binds (e.g. the
        swapchain image of this frame); it is not part of the structure the compiler sees."""
        if swapchain is True and final is None:
            final = "present"
        key = _image_key("import_image", name, format, extent, mips, layers, samples)
        if key is not None and _states_plain(initial, final) and (swapchain is True or swapchain is False):
            key += (initial, final, swapchain)
        else:
            key = None
        return self._add_resource(name, key, lambda: ResourceDecl(
            name=name, desc=ImageDesc(format=format, extent=extent, mips=mips, layers=layers, samples=samples),
            imported=True, swapchain=swapchain, initial=initial, final=final), external)

    def import_buffer(self, name: str, *, size: int, initial: str = "undefined", final: str | None = None,
                      external=None) -> Handle:
        key = (("import_buffer", name, size, initial, final)
               if type(name) is str and type(size) is int and _states_plain(initial, final) else None)
        return self._add_resource(name, key, lambda: ResourceDecl(name=name, desc=BufferDesc(size=size),
                                                                  imported=True, initial=initial, final=final),
                                  external)

    def history_image(self, name: str, *, format, extent: Sequence[int], state: str, mips: int = 1,
                      layers: int = 1, external=None) -> Handle:
        """An image that persists across frames and is left in `state` at the end of each."""
        key = _image_key("history_image", name, format, extent, mips, layers, 1)
        key = key + (state,) if key is not None and type(state) is str else None
        return self._add_resource(name, key, lambda: ResourceDecl(
            name=name, desc=ImageDesc(format=format, extent=extent, mips=mips, layers=layers),
            imported=True, history=True, initial=state, final=state), external)

    def add_pass(self, name: str, *, queue: str = "graphics") -> PassBuilder:
        """Start the next pass in program order; the previous pass's builder closes (see PassBuilder)."""
        if not (type(name) is str and name in known_names and type(queue) is str and queue in QUEUES):
            check_pass_header(name, queue)
        if name in self._pass_names:
            raise FrameGraphError("duplicate pass name", pass_name=name)
        previous = self._passes[-1] if self._passes else None
        if previous is not None and previous._in_with:
            raise FrameGraphError(f"pass '{previous.name}' is still open (its with-block has not ended): passes are "
                                  "declared one after the other", pass_name=name)
        if previous is not None:
            previous._open = False
        builder = PassBuilder(self, name, queue)
        self._passes.append(builder)
        self._pass_names.add(name)
        return builder

    def output(self, handle: Handle) -> None:
        """Mark a resource whose final contents the frame exists to produce."""
        if not isinstance(handle, Handle) or not isinstance(handle.name, str):
            raise FrameGraphError(f"output() takes a Handle, got {show_value(handle)}")
        if handle.name not in self._resources:
            raise FrameGraphError("unknown output resource", resource=str(handle.name))
        if handle.name not in self._outputs:
            self._outputs.append(handle.name)

    @property
    def outputs(self) -> tuple[str, ...]:
        return tuple(self._outputs)

    def structural_key(self) -> tuple:
        """What the compiler sees of this frame, as nested tuples of plain values: equal keys mean
        equal `graph()`s (and `structural_key(fg.graph())` is the same key). Execute callbacks and
        imported objects (`imports`) are not part of it."""
        return (self.name, tuple(self._resource_keys),
                tuple([(p.name, p.queue, tuple(p._accesses)) for p in self._passes]), tuple(self._outputs))

    def graph(self) -> Graph:
        return Graph(name=self.name, resources=tuple(self._resources.values()),
                     passes=tuple(p.decl() for p in self._passes), outputs=tuple(self._outputs))


def _resource_key(r: ResourceDecl) -> tuple:
    d = r.desc
    if isinstance(d, ImageDesc):
        desc = ("image", int(d.format), d.extent, d.mips, d.layers, d.samples)
    else:
        desc = ("buffer", d.size)
    return (r.name, desc, r.imported, r.swapchain, r.history, r.initial, r.final, r.sharing)


def structural_key(graph: "Graph | FrameGraph") -> tuple:
    """The structural key of a frozen Graph (e.g. one read from JSON): the same tuple a FrameGraph
    that declares this graph builds as it goes. Equal keys mean equal graphs, hence equal plans."""
    if isinstance(graph, FrameGraph):
        return graph.structural_key()
    return (graph.name, tuple([_resource_key(r) for r in graph.resources]),
            tuple([(p.name, p.queue, tuple([(a.resource, a.access, a.mips, a.layers, a.range, a.discard)
                                            for a in p.accesses])) for p in graph.passes]),
            graph.outputs)
