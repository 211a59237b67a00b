"""The parts of a `framegraph-plan/1` dict the simulation reads, parsed once into frozen records,
and the check that comes first (`check_plan`): every field the verifier reads has its JSON type and
a sane range, so a malformed plan becomes reported problems with their location, never a crash."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .problems import Problem, Reporter
from .vocab import NO_WORK, UNDEFINED, dst_scope, norm_layout, pairs, parse_access, parse_stages, src_scope

WHOLE = 1 << 62     # the size of a buffer whose size the plan does not give
# Limits (docs/formats.md): the graph's limits, so the per-subresource simulation stays bounded.
MAX_MIPS = 15
MAX_LAYERS = 2048
MAX_BYTES = 1 << 62
MAX_VALUE = (1 << 64) - 1     # semaphore values and queue family indices are 64/32-bit in Vulkan
MAX_PROBLEMS = 200
OPS = ("barrier", "pass", "set_event", "wait_events", "reset_event")


@dataclass(frozen=True)
class Resource:
    name: str
    kind: str                       # "image" | "buffer"
    mips: int
    layers: int
    size: int
    imported: bool
    swapchain: bool
    exclusive: bool                 # VK_SHARING_MODE_EXCLUSIVE: queue family ownership applies
    initial: dict | None            # imported: {"stages", "access", "layout"}
    final: dict | None
    final_queue: str | None         # the queue the plan establishes the final state on
    heap: object | None             # placed (aliasable) memory
    offset: int

    @classmethod
    def from_json(cls, d: dict) -> "Resource":
        size = int(d.get("size") or 0)
        return cls(name=d["name"], kind=d.get("kind", "image"), mips=int(d.get("mips") or 1),
                   layers=int(d.get("layers") or 1), size=size if size > 0 else WHOLE,
                   imported=bool(d.get("imported")), swapchain=bool(d.get("swapchain")),
                   exclusive=d.get("sharing", "exclusive") != "concurrent",
                   initial=d.get("initial") if d.get("imported") else None,
                   final=d.get("final") if d.get("imported") else None,
                   final_queue=d.get("final_queue"),
                   heap=d.get("heap"), offset=int(d.get("offset") or 0))

    @property
    def is_image(self) -> bool:
        return self.kind == "image"

    def span(self, spec, total: int) -> range:
        """A `[base, count]` of mips or layers (None = all; a non-numeric count = the rest)."""
        if not spec:
            return range(total)
        base = int(spec[0])
        count = spec[1] if len(spec) > 1 else 1
        count = total - base if not isinstance(count, int) or count < 0 else count
        return range(base, min(base + count, total))

    def byte_range(self, spec) -> tuple[int, int]:
        """A buffer `[offset, size]` as [lo, hi) (None = whole; non-numeric size = VK_WHOLE_SIZE)."""
        if not spec:
            return 0, self.size
        lo = int(spec[0])
        size = spec[1] if len(spec) > 1 else None
        hi = self.size if not isinstance(size, int) or size < 0 else lo + size
        return lo, min(hi, self.size)


@dataclass(frozen=True)
class Barrier:
    """One memory, buffer or image barrier of a dependency, with its masks parsed."""
    kind: str                       # "memory" | "buffer" | "image"
    resource: str | None
    src: int                        # stage masks as named (meta stages expanded)
    dst: int
    src_access: int
    dst_access: int
    old: str | None = None
    new: str | None = None
    mips: tuple | None = None
    layers: tuple | None = None
    range: tuple | None = None
    src_family: int | None = None
    dst_family: int | None = None

    @cached_property
    def src_exec(self) -> int:
        return src_scope(self.src)

    @cached_property
    def dst_exec(self) -> int:
        return dst_scope(self.dst)

    @cached_property
    def src_pairs(self) -> int:
        """First access scope: only the stages named (not the logically earlier ones)."""
        return pairs(self.src & ~NO_WORK, self.src_access)

    @cached_property
    def dst_pairs(self) -> int:
        return pairs(self.dst & ~NO_WORK, self.dst_access)

    @property
    def transition(self) -> bool:
        return self.kind == "image" and self.old != self.new

    @property
    def from_undefined(self) -> bool:
        return self.old == UNDEFINED

    @property
    def transfers_ownership(self) -> bool:
        return (self.kind != "memory" and self.src_family is not None and self.dst_family is not None
                and self.src_family != self.dst_family)

    @property
    def extent_key(self) -> tuple:
        """Identifies the range a release/acquire pair must agree on."""
        return (self.resource, _tup(self.mips), _tup(self.layers), _tup(self.range),
                self.src_family, self.dst_family)


def _tup(v):
    return None if v is None else tuple(v)


def layout_of(d: dict, key: str) -> str | None:
    return norm_layout(d.get(key))


def strip_reasons(dep) -> object:
    """A dependency as compared between set_event and wait_events: provenance does not count."""
    if isinstance(dep, dict):
        return {k: strip_reasons(v) for k, v in dep.items() if k != "reasons"}
    if isinstance(dep, list):
        return [strip_reasons(v) for v in dep]
    return dep


# ---------------------------------------------------------------- the plan's shape

def check_plan(plan) -> list[Problem]:
    """Problems (kind 'format') with the shape of a plan dict: wrong JSON types, missing names,
    unknown flag names, sizes beyond the limits. Empty means the simulation can read every field;
    it is run only then (a list where a mask belongs is not a hazard, it is not a plan)."""
    shape = _Shape()
    if not isinstance(plan, dict):
        shape.bad("plan", f"must be a JSON object, got {type(plan).__name__}")
    else:
        try:
            shape.plan(plan)
        except _Enough:
            pass
    return shape.report.problems()


class _Enough(Exception):
    """More than MAX_PROBLEMS: a file this broken is not worth listing in full."""


_MISSING = object()


class _Shape:
    def __init__(self) -> None:
        self.report = Reporter()
        self.count = 0

    def bad(self, path: str, detail: str, pass_name=None, resource="") -> None:
        self.count += 1
        if self.count > MAX_PROBLEMS:
            self.report.add("format", None, "", f"more than {MAX_PROBLEMS} malformed fields; the rest are not listed")
            raise _Enough
        self.report.add("format", pass_name, resource if isinstance(resource, str) else "", f"{path}: {detail}")

    # -------------------------------------------------------- primitives (each returns whether it is fine)
    def type(self, v, types, what: str, path: str, ctx: dict, optional=True, nullable=True) -> bool:
        if v is _MISSING or v is None:
            if optional and (nullable or v is _MISSING):
                return False
            self.bad(path, f"missing (want {what})", **ctx)
            return False
        types = types if isinstance(types, tuple) else (types,)
        if isinstance(v, bool) and bool not in types or not isinstance(v, types):
            self.bad(path, f"must be {what}, got {_short(v)}", **ctx)
            return False
        return True

    def int(self, v, path, ctx, lo=0, hi=MAX_VALUE, optional=True, nullable=True) -> None:
        if self.type(v, int, "an integer", path, ctx, optional, nullable) and not lo <= v <= hi:
            self.bad(path, f"{v} is out of range [{lo}, {hi}]", **ctx)

    def str(self, v, path, ctx, optional=True, choices=None) -> None:
        if self.type(v, str, "a string", path, ctx, optional) and choices and v not in choices:
            self.bad(path, f"{v!r} is not one of {', '.join(choices)}", **ctx)

    def bool(self, v, path, ctx) -> None:
        self.type(v, bool, "true or false", path, ctx)

    def list(self, v, path, ctx, nullable=True) -> list:
        """`nullable=False`: the simulator reads it with a default for a missing key, not for null."""
        return v if self.type(v, list, "a list", path, ctx, nullable=nullable) else []

    def dict(self, v, path, ctx, optional=True) -> dict:
        return v if self.type(v, dict, "an object", path, ctx, optional) else {}

    def flags(self, v, path, ctx, parse, what) -> None:
        names = self.list(v, path, ctx)
        if not all(isinstance(n, str) for n in names):
            self.bad(path, f"must be a list of {what} names, got {_short(v)}", **ctx)
            return
        for n in parse(tuple(names))[1]:
            self.bad(path, f"unknown {what} {n!r}", **ctx)

    def stages(self, d, key, path, ctx) -> None:
        self.flags(d.get(key), f"{path}.{key}", ctx, parse_stages, "pipeline stage")

    def access(self, d, key, path, ctx) -> None:
        self.flags(d.get(key), f"{path}.{key}", ctx, parse_access, "access flag")

    def span(self, v, path, ctx) -> None:
        """[base, count]: a count that is not a number means "the rest" (VK_REMAINING_*)."""
        if not self.type(v, list, "[base, count]", path, ctx):
            return
        if not 1 <= len(v) <= 2:
            self.bad(path, f"must be [base, count], got {_short(v)}", **ctx)
            return
        self.int(v[0], f"{path}[0]", ctx, 0, MAX_BYTES, optional=False)
        if len(v) == 2 and not isinstance(v[1], str):
            self.int(v[1], f"{path}[1]", ctx, -1, MAX_BYTES, optional=False)

    # -------------------------------------------------------- the plan
    def plan(self, plan: dict) -> None:
        queues = self.dict(plan.get("queues"), "queues", {})
        for name, q in queues.items():
            q = self.dict(q, f"queues.{name}", {})
            self.int(q.get("family", _MISSING), f"queues.{name}.family", {}, nullable=False)
            self.int(q.get("index"), f"queues.{name}.index", {})
        for i, name in enumerate(self.list(plan.get("culled", _MISSING), "culled", {}, nullable=False)):
            self.str(name, f"culled[{i}]", {}, optional=False)
        resources = self.names([self.resource(r, i) for i, r in enumerate(self.list(plan.get("resources", _MISSING), "resources", {}, nullable=False))],
                               "resources")
        self.names([self.pass_(p, i) for i, p in enumerate(self.list(plan.get("passes", _MISSING), "passes", {}, nullable=False))], "passes")
        submits = self.list(plan.get("submits", _MISSING), "submits", {}, nullable=False)
        for i, s in enumerate(submits):
            self.submit(s, f"submits[{i}]")
        if any(isinstance(r, dict) and r.get("imported") and r.get("final") for r in resources) and not (
                queues or submits):
            self.bad("queues", "an imported resource has a final state, but the plan has no queue to reach it on")

    def names(self, entries: list, path: str) -> list:
        seen = set()
        for i, d in enumerate(entries):
            name = d.get("name") if isinstance(d, dict) else None
            if isinstance(name, str):
                if name in seen:
                    self.bad(f"{path}[{i}].name", f"{name!r} is listed twice")
                seen.add(name)
        return entries

    def resource(self, d, i: int):
        path = f"resources[{i}]"
        d = self.dict(d, path, {}, optional=False)
        name = d.get("name", _MISSING)
        self.str(name, f"{path}.name", {}, optional=False)
        ctx = {"resource": name}
        self.str(d.get("kind"), f"{path}.kind", ctx, choices=("image", "buffer"))
        self.int(d.get("mips"), f"{path}.mips", ctx, 0, MAX_MIPS)
        self.int(d.get("layers"), f"{path}.layers", ctx, 0, MAX_LAYERS)
        self.int(d.get("size"), f"{path}.size", ctx, 0, MAX_BYTES)
        self.int(d.get("offset"), f"{path}.offset", ctx, 0, MAX_BYTES)
        for key in ("imported", "swapchain", "transient"):
            self.bool(d.get(key), f"{path}.{key}", ctx)
        self.str(d.get("sharing"), f"{path}.sharing", ctx, choices=("exclusive", "concurrent"))
        self.str(d.get("final_queue"), f"{path}.final_queue", ctx)
        self.type(d.get("heap"), (int, str), "a heap id", f"{path}.heap", ctx)
        for key in ("initial", "final"):
            state = self.dict(d.get(key), f"{path}.{key}", ctx)
            self.stages(state, "stages", f"{path}.{key}", ctx)
            self.access(state, "access", f"{path}.{key}", ctx)
            self.str(state.get("layout"), f"{path}.{key}.layout", ctx)
        return d

    def pass_(self, d, i: int):
        path = f"passes[{i}]"
        d = self.dict(d, path, {}, optional=False)
        name = d.get("name", _MISSING)
        self.str(name, f"{path}.name", {}, optional=False)
        ctx = {"pass_name": name if isinstance(name, str) else None}
        self.str(d.get("queue"), f"{path}.queue", ctx)
        for j, a in enumerate(self.list(d.get("accesses", _MISSING), f"{path}.accesses", ctx, nullable=False)):
            apath = f"{path}.accesses[{j}]"
            a = self.dict(a, apath, ctx, optional=False)
            res = a.get("resource", _MISSING)
            self.str(res, f"{apath}.resource", ctx, optional=False)
            actx = {**ctx, "resource": res}
            self.stages(a, "stages", apath, actx)
            self.access(a, "access", apath, actx)
            self.str(a.get("layout"), f"{apath}.layout", actx)
            for key in ("mips", "layers", "range"):
                self.span(a.get(key), f"{apath}.{key}", actx)
            self.bool(a.get("discard"), f"{apath}.discard", actx)
        return d

    def submit(self, d, path: str) -> None:
        d = self.dict(d, path, {}, optional=False)
        self.str(d.get("queue", _MISSING), f"{path}.queue", {}, optional=False)
        key = "wait" if "wait" in d else "waits"
        for i, w in enumerate(self.list(d.get(key), f"{path}.{key}", {})):
            wpath = f"{path}.{key}[{i}]"
            w = self.dict(w, wpath, {}, optional=False)
            if "acquire" in w:
                self.str(w["acquire"], f"{wpath}.acquire", {}, optional=False)
            else:
                self.str(w.get("queue", _MISSING), f"{wpath}.queue", {}, optional=False)
                self.int(w.get("value", _MISSING), f"{wpath}.value", {}, optional=False)
            self.stages(w, "stages", wpath, {})
        signal = self.dict(d.get("signal"), f"{path}.signal", {})
        if signal:
            self.int(signal.get("value", _MISSING), f"{path}.signal.value", {}, optional=False)
            self.stages(signal, "stages", f"{path}.signal", {})
        for i, name in enumerate(self.list(d.get("present"), f"{path}.present", {})):
            self.str(name, f"{path}.present[{i}]", {}, optional=False)
        commands = self.list(d.get("commands", _MISSING), f"{path}.commands", {}, nullable=False)
        upcoming = None
        for i in range(len(commands) - 1, -1, -1):     # a command serves the next pass: name it
            c = commands[i]
            if isinstance(c, dict) and c.get("op") == "pass" and isinstance(c.get("pass"), str):
                upcoming = c["pass"]
            self.command(c, f"{path}.commands[{i}]", {"pass_name": upcoming})

    def command(self, c, path: str, ctx: dict) -> None:
        c = self.dict(c, path, ctx, optional=False)
        op = c.get("op", _MISSING)
        self.str(op, f"{path}.op", ctx, optional=False, choices=OPS)
        if op == "pass":
            self.str(c.get("pass", _MISSING), f"{path}.pass", ctx, optional=False)
        if op in ("barrier", "set_event"):
            self.dependency(c.get("dependency"), f"{path}.dependency", ctx)
        if op in ("set_event", "reset_event"):
            self.str(c.get("event", _MISSING), f"{path}.event", ctx, optional=False)
        if op == "reset_event":
            self.stages(c, "stages", path, ctx)
        if op == "wait_events":
            for i, e in enumerate(self.list(c.get("events", _MISSING), f"{path}.events", ctx, nullable=False)):
                self.str(e, f"{path}.events[{i}]", ctx, optional=False)
            for i, dep in enumerate(self.list(c.get("dependencies"), f"{path}.dependencies", ctx)):
                self.dependency(dep, f"{path}.dependencies[{i}]", ctx)
        for i, r in enumerate(self.list(c.get("reasons"), f"{path}.reasons", ctx)):
            r = self.dict(r, f"{path}.reasons[{i}]", ctx, optional=False)
            for key in ("resource", "producer", "consumer", "hazard"):
                self.str(r.get(key), f"{path}.reasons[{i}].{key}", ctx)

    def dependency(self, dep, path: str, ctx: dict) -> None:
        dep = self.dict(dep, path, ctx)
        for kind in ("memory", "buffers", "images"):
            for i, b in enumerate(self.list(dep.get(kind, _MISSING), f"{path}.{kind}", ctx, nullable=False)):
                bpath = f"{path}.{kind}[{i}]"
                b = self.dict(b, bpath, ctx, optional=False)
                bctx = ctx
                if kind != "memory":
                    self.str(b.get("resource", _MISSING), f"{bpath}.resource", ctx, optional=False)
                    bctx = {**ctx, "resource": b.get("resource")}
                    self.int(b.get("src_queue"), f"{bpath}.src_queue", bctx)
                    self.int(b.get("dst_queue"), f"{bpath}.dst_queue", bctx)
                for key in ("src_stages", "dst_stages"):
                    self.stages(b, key, bpath, bctx)
                for key in ("src_access", "dst_access"):
                    self.access(b, key, bpath, bctx)
                if kind == "buffers":
                    self.span(b.get("range"), f"{bpath}.range", bctx)
                if kind == "images":
                    self.span(b.get("mips"), f"{bpath}.mips", bctx)
                    self.span(b.get("layers"), f"{bpath}.layers", bctx)
                    self.str(b.get("old_layout"), f"{bpath}.old_layout", bctx)
                    self.str(b.get("new_layout"), f"{bpath}.new_layout", bctx)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
