"""Stage 4, track: walk the ordered passes keeping each subresource unit's state (layout, last
write, reads since, where the write is visible, owning family) and derive exactly the
synchronization each access needs.

Output per pass: grouped `Transition`s (what a barrier before the pass must do on its stream),
`CrossDep`s (work on another stream a semaphore wait must cover), and ownership releases that
the other stream records. Strategies decide only where and how these become commands.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..access import layout_for_format, lookup
from ..vk import Access, Layout, Stage, WRITE_ACCESS

_WRITE = int(WRITE_ACCESS)   # plain ints in the hot path: IntFlag arithmetic costs ~1 µs per operation

# Stages a stream's queue family can execute. A stream other than "graphics" runs on a family of
# its own (async compute, or transfer-only); stage masks there may not name graphics stages.
_ANYWHERE = int(Stage.TOP_OF_PIPE | Stage.BOTTOM_OF_PIPE | Stage.ALL_COMMANDS | Stage.HOST | Stage.ALL_TRANSFER
                | Stage.COPY)
_SUPPORTED = {"compute": _ANYWHERE | int(Stage.COMPUTE_SHADER | Stage.DRAW_INDIRECT | Stage.CLEAR),
              "transfer": _ANYWHERE}


def _fit_stages(mask: int, stream: str) -> int:
    """States from outside the frame (initial, final) may name stages the queue that synchronizes
    them cannot execute; ALL_COMMANDS is then the valid mask that still covers them."""
    supported = _SUPPORTED.get(stream)
    if supported is None or not mask & ~supported:
        return mask
    return int(Stage.ALL_COMMANDS)
from .validate import ResolvedAccess, ResolvedGraph

# Every access bit: a semaphore makes memory visible to all of them (the meta bits MEMORY_READ /
# MEMORY_WRITE alone would not cover e.g. SHADER_SAMPLED_READ in a bitmask comparison).
ALL_ACCESS = Access(0)
for _bit in Access:
    ALL_ACCESS |= _bit


@dataclass(frozen=True, slots=True)
class Reason:
    producer: str | None   # None: the resource's state on entry to the frame
    consumer: str | None   # None: the resource's final state
    resource: str
    hazard: str            # RAW | WAR | WAW | layout | final | ownership


@dataclass(frozen=True, slots=True)
class Transition:
    """One barrier entry for a set of units of one resource (same masks and layouts)."""
    resource: int
    units: tuple[int, ...]
    src_stages: Stage
    src_access: Access
    dst_stages: Stage
    dst_access: Access
    old_layout: Layout | None
    new_layout: Layout | None
    src_family: int | None = None    # set on ownership release/acquire entries
    dst_family: int | None = None
    kind: str = "barrier"            # barrier | release | acquire
    reasons: tuple[Reason, ...] = ()
    producer_pos: int = -1           # order position of the latest same-stream access it waits for

    @property
    def layout_change(self) -> bool:
        return self.old_layout is not None and self.old_layout != self.new_layout


@dataclass(frozen=True, slots=True)
class CrossDep:
    stream: str       # the producing stream
    position: int     # order position of the last producing pass on it (-1: before the frame)
    stages: Stage     # consumer stages the wait must cover
    ownership: bool   # an ownership transfer rides on it: the wait must be ALL_COMMANDS


@dataclass(frozen=True, slots=True)
class PassSync:
    position: int
    pass_index: int
    stream: str
    transitions: tuple[Transition, ...]
    cross: tuple[CrossDep, ...]
    releases: tuple[tuple[str, Transition], ...]   # (stream that records it, release entry)


@dataclass(frozen=True, slots=True)
class FinalSync:
    stream: str
    transitions: tuple[Transition, ...]
    cross: tuple[CrossDep, ...]
    releases: tuple[tuple[str, Transition], ...]


@dataclass(frozen=True, slots=True)
class Tracked:
    passes: tuple[PassSync, ...]
    finals: tuple[FinalSync, ...]
    first_use: dict            # resource index -> (position, stages) of its first use (swapchain acquire)
    last_stream: dict          # resource index -> stream that touched it last
    final_stream: dict         # resource index -> stream its final state is established on


class _Acc:
    __slots__ = ("pos", "stream", "stages", "access", "name", "after")

    def __init__(self, pos, stream, stages, access, name):
        self.pos, self.stream, self.stages, self.access, self.name = pos, stream, stages, access, name
        self.after: dict[str, int] = {}   # stream -> stages execution-ordered after this access


class _Unit:
    __slots__ = ("layout", "defined", "write", "vis", "reads", "owner", "acquire", "priors", "unclaimed")

    def __init__(self, layout, defined, owner):
        self.unclaimed = False  # holds the state on entry, not yet given to the queue that first uses it
        self.acquire = False   # a swapchain image's first use chains after the acquire semaphore
        self.priors = ()       # accesses of earlier occupants of the same memory (aliasing)
        self.layout = layout
        self.defined = defined
        self.write: _Acc | None = None
        self.vis: list[tuple[str, int, int]] = []   # (stream, stages, access) the write is visible to
        self.reads: list[_Acc] = []
        self.owner = owner


def _covered(vis, stream, stages, access) -> bool:
    for s, vs, va in vis:
        if s == stream and (stages & ~vs) == 0 and (access & ~va) == 0:
            return True
    return False


@dataclass(slots=True)
class _Need:
    """Accumulates what one access of one unit needs."""
    src_stages: int = 0
    src_access: int = 0
    on_write: bool = False    # depends on a write (RAW/WAW): the consumer's access must be made visible
    last_pos: int = -1        # latest same-stream access depended on (where a split event can be set)
    cross: dict = field(default_factory=dict)     # stream -> max position
    reasons: list = field(default_factory=list)


class Tracker:
    def __init__(self, rg: ResolvedGraph, stream_of: dict, family_of: dict, concurrent: bool,
                 alias_preds: dict | None = None):
        self.rg = rg
        self.alias_preds = alias_preds or {}
        self.stream_of = stream_of          # logical queue -> stream
        self.family_of = family_of          # stream -> family
        self.concurrent = concurrent
        self.units: dict[int, list[_Unit]] = {}
        self.first_use: dict[int, tuple[int, int]] = {}
        self.first_stream: dict[int, str] = {}
        self.last_stream: dict[int, str] = {}

    def _state(self, r: int) -> list[_Unit]:
        units = self.units.get(r)
        if units is None:
            res = self.rg.resources[r]
            decl = res.decl
            layout = Layout.UNDEFINED if res.is_image else None
            defined = False
            units = [_Unit(layout, defined, None) for _ in range(res.unit_count)]
            if decl.imported and decl.initial != "undefined":
                info = lookup(decl.initial)
                if res.is_image:
                    layout = layout_for_format(info.layout, decl.desc.format)
                for u in units:
                    u.layout, u.defined, u.unclaimed = layout, True, True
                    acc = _Acc(-1, None, int(info.stages), int(info.access), None)
                    if info.writes:
                        u.write = acc
                    else:
                        u.reads.append(acc)
            if decl.swapchain:
                for u in units:
                    u.acquire = True
            if r in self.alias_preds:
                priors = self._alias_priors(r)
                for u in units:
                    u.priors = priors
            self.units[r] = units
        return units

    def _alias_priors(self, r: int) -> tuple:
        """The memory's earlier occupants: every unit of this resource may overlap any of theirs, so
        each first access is ordered after all their last accesses. Folded to one access per queue
        (union of stages and write bits, latest position): the dependency is the same, and the
        tracker then does per-queue work instead of per-access work."""
        per_stream: dict = {}
        for q in self.alias_preds[r]:
            for qu in self.units.get(q, ()):
                for acc in ([qu.write] if qu.write is not None else []) + qu.reads:
                    cur = per_stream.get(acc.stream)
                    if cur is None:
                        per_stream[acc.stream] = _Acc(acc.pos, acc.stream, acc.stages, acc.access & _WRITE, acc.name)
                    else:
                        cur.stages |= acc.stages
                        cur.access |= acc.access & _WRITE
                        if acc.pos > cur.pos:
                            cur.pos, cur.name = acc.pos, acc.name
        return tuple(per_stream.values())

    def _shared(self, r: int) -> bool:
        return self.concurrent or self.rg.resources[r].decl.sharing == "concurrent"

    def access(self, pos, name, stream, a: ResolvedAccess, out: dict):
        """Derive the needs of one access and apply it to the unit states."""
        r = a.resource
        res_name = self.rg.resources[r].name
        units = self._state(r)
        family = self.family_of[stream]
        cs, ca = int(a.stages), int(a.access)
        if name is None:
            cs = _fit_stages(cs, stream)   # the final state, a virtual access
        writes = bool(ca & _WRITE)
        reads = bool(ca & ~_WRITE)
        new_layout = a.layout
        if r not in self.first_use:
            self.first_use[r] = (pos, cs)
            self.first_stream[r] = stream
        self.last_stream[r] = stream
        for u_index in a.units:
            st = units[u_index]
            # The state on entry belongs to the queue that first uses it: waiting for that first use's
            # submit on another queue orders it too.
            if st.unclaimed:   # once per unit: walking every read on every access was quadratic
                st.unclaimed = False
                # Its stages are the previous frame's: fitted to what this queue can execute.
                if st.write is not None and st.write.stream is None:
                    st.write.stream, st.write.pos = stream, pos
                    st.write.stages = _fit_stages(st.write.stages, stream)
                for rd in st.reads:
                    if rd.stream is None:
                        rd.stream, rd.pos = stream, pos
                        rd.stages = _fit_stages(rd.stages, stream)
            need = _Need()
            if st.priors:
                for acc in st.priors:
                    self._depend(need, acc, stream, True, name, res_name, "alias")
                st.priors = ()
            layout_change = new_layout is not None and st.layout != new_layout
            if st.acquire:
                st.acquire = False
                need.src_stages |= cs
                need.reasons.append(Reason(None, name, res_name, "layout"))
            w = st.write
            if w is not None:
                raw = reads and not _covered(st.vis, stream, cs, ca & ~_WRITE)
                waw = writes and not _covered(st.vis, stream, cs, ca & _WRITE)
                if raw or waw or layout_change:
                    self._depend(need, w, stream, True, name, res_name,
                                 "RAW" if raw else ("WAW" if waw else "layout"))
            if writes or layout_change:
                for rd in st.reads:
                    if layout_change or (cs & ~rd.after.get(stream, 0)):
                        self._depend(need, rd, stream, False, name, res_name, "WAR" if writes else "layout")
            if layout_change and not need.reasons:
                need.reasons.append(Reason(None, name, res_name, "layout"))
            # Ownership: contents made on another family must be released there and acquired here.
            transfer_from = None
            if (st.owner is not None and st.owner != family and st.defined and not a.discard
                    and not self._shared(r)):
                transfer_from = st.owner
            old_layout = st.layout
            if layout_change and (a.discard or not st.defined):
                # A transition from UNDEFINED discards the contents, which nobody needs. Without a
                # layout change there is no transition at all (an UNDEFINED->X "transition" would be
                # a write the consumer must then be made to see).
                old_layout = Layout.UNDEFINED
            if transfer_from is not None:
                # The release/acquire pair performs the layout transition and the availability;
                # the semaphore between them must be an ALL_COMMANDS one.
                # Release and acquire are one group keyed together, so their ranges match exactly;
                # the key carries the release's source masks and stream.
                src_stream = self._owner_stream(st)
                need.cross[src_stream] = max(need.cross.get(src_stream, -1), _last_pos(st, src_stream))
                key = ("acquire", r, _stream_stages(st, src_stream), _stream_write_access(st, src_stream), cs, ca,
                       old_layout, new_layout, transfer_from, family, src_stream)
                self._add(out, key, u_index, need.reasons + [Reason(_last_name(st), name, res_name, "ownership")],
                          need.cross, True)
            else:
                local_layout = layout_change
                src_stages = need.src_stages
                if need.cross and local_layout:
                    src_stages |= cs   # chain the layout transition after the semaphore wait
                if src_stages or local_layout:
                    # A pure WAR needs only an execution dependency; anything that makes memory
                    # visible (or transitions a layout) names the consumer's access.
                    dst_access = ca if (need.on_write or local_layout) else 0
                    key = ("barrier", r, src_stages, need.src_access, cs, dst_access,
                           old_layout if new_layout is not None else None, new_layout, None, None)
                    self._add(out, key, u_index, need.reasons, need.cross, False, need.last_pos)
                elif need.cross:
                    # Only a semaphore wait is needed; the key still records the consumer stages it must cover.
                    self._add(out, ("cross", r, 0, 0, cs, 0, None, None, None, None), u_index, need.reasons,
                              need.cross, False)
            # Apply the synchronization, then the access itself.
            if need.src_stages or need.cross or layout_change or transfer_from is not None:
                # A bare semaphore wait makes memory visible to every access at its stages; a
                # transition or an acquire recorded after it is a write visible only to that
                # barrier's destination access scope.
                transition = layout_change or transfer_from is not None
                vis_access = ALL_ACCESS if need.cross and not transition else ca
                st.vis.append((stream, cs, int(vis_access)))
                # Only the reads this synchronization covers are now ordered before `cs`: same-queue
                # reads within the barrier's source stages, other-queue reads up to the waited value.
                for rd in st.reads:
                    if rd.stream == stream or rd.stream is None:
                        covered = (rd.stages & ~need.src_stages) == 0
                    else:
                        covered = need.cross.get(rd.stream, -1) >= rd.pos
                    if covered:
                        rd.after[stream] = rd.after.get(stream, 0) | cs
            if layout_change or transfer_from is not None:
                # A layout transition (or an ownership acquire) is itself a write, done by this
                # barrier and complete only for its destination stages: later accesses at other
                # stages must chain from those stages.
                # Its access bits are the previous write's only when that ran on this queue: the
                # stage mask then still names the stages that perform them (an acquired write's
                # bits would pair e.g. COLOR_ATTACHMENT_WRITE with COMPUTE_SHADER, which is invalid;
                # the transfer already made it available).
                prev = st.write
                same = prev is not None and prev.stream == stream
                st.write = _Acc(pos, stream, cs | (prev.stages if same else 0), prev.access if same else 0,
                                prev.name if prev is not None else name)
                st.vis = [(stream, cs, int(vis_access))]
                st.reads = []
            if new_layout is not None:
                st.layout = new_layout
            acc = _Acc(pos, stream, cs, ca, name)
            if writes:
                st.write = acc
                st.vis = []   # a write is visible to nothing until a later barrier says so
                st.reads = []
                st.defined = True
                st.owner = family
            else:
                st.reads.append(acc)
                if st.defined and transfer_from is not None:
                    st.owner = family
                elif st.owner is None:
                    st.owner = family

    def _depend(self, need: _Need, acc: _Acc, stream, is_write, consumer, res_name, hazard):
        need.reasons.append(Reason(acc.name, consumer, res_name, hazard))
        if acc.stream is None or acc.stream == stream:
            need.on_write = need.on_write or is_write
            need.last_pos = max(need.last_pos, acc.pos)
            need.src_stages |= acc.stages if acc.name is not None else _fit_stages(acc.stages, stream)
            if is_write:
                need.src_access |= acc.access & _WRITE
        else:
            need.cross[acc.stream] = max(need.cross.get(acc.stream, -1), acc.pos)

    def _owner_stream(self, st: _Unit) -> str:
        last = st.write
        for rd in st.reads:
            if last is None or (rd.stream is not None and rd.pos > last.pos):
                last = rd
        return last.stream

    @staticmethod
    def _add(out, key, unit, reasons, cross, ownership, last_pos=-1):
        entry = out.setdefault(key, [[], [], {}, False, -1])
        entry[4] = max(entry[4], last_pos)
        entry[0].append(unit)
        entry[1].extend(reasons)
        for s, p in cross.items():
            entry[2][s] = max(entry[2].get(s, -1), p)
        entry[3] = entry[3] or ownership


def _stream_stages(st: _Unit, stream) -> int:
    m = 0
    if st.write is not None and st.write.stream == stream:
        m |= st.write.stages
    for rd in st.reads:
        if rd.stream == stream:
            m |= rd.stages
    return m


def _stream_write_access(st: _Unit, stream) -> int:
    if st.write is not None and st.write.stream == stream:
        return st.write.access & _WRITE
    return 0


def _last_pos(st: _Unit, stream) -> int:
    p = -1
    if st.write is not None and st.write.stream == stream:
        p = st.write.pos
    for rd in st.reads:
        if rd.stream == stream:
            p = max(p, rd.pos)
    return p


def _last_name(st: _Unit):
    last = st.write
    for rd in st.reads:
        if last is None or rd.pos > last.pos:
            last = rd
    return last.name if last is not None else None


def _dedup(reasons) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(reasons))


def _collect(out: dict):
    transitions, cross = [], {}
    own = {}
    rels = []
    for key, (units, reasons, xs, ownership, last_pos) in out.items():
        for s, p in xs.items():
            prev = own.get(s)
            cross[s] = max(cross.get(s, -1), p)
            own[s] = (prev or False) or ownership
        kind, r, ss, sa, ds, da, ol, nl, sf, df = key[:10]
        if kind == "cross":
            continue
        unit_tuple = tuple(sorted(set(units)))
        if kind == "acquire":
            # The acquire's source scope is empty; the release (recorded on the source stream)
            # carries the producer's masks. Same units, layouts and families in both.
            rels.append((key[10], Transition(r, unit_tuple, Stage(ss), Access(sa), Stage.NONE, Access.NONE, ol, nl,
                                             sf, df, "release", _dedup(reasons))))
            ss, sa = 0, 0
        transitions.append(Transition(r, unit_tuple, Stage(ss), Access(sa), Stage(ds), Access(da),
                                      ol, nl, sf, df, kind, _dedup(reasons), last_pos))
    crosses = tuple(CrossDep(s, p, Stage(0), own[s]) for s, p in cross.items())
    return tuple(transitions), crosses, tuple(rels)


def track(rg: ResolvedGraph, order: tuple[int, ...], stream_of: dict, family_of: dict,
          concurrent: bool = False, alias_preds: dict | None = None) -> Tracked:
    tracker = Tracker(rg, stream_of, family_of, concurrent, alias_preds)
    passes = []
    for pos, p_index in enumerate(order):
        p = rg.passes[p_index]
        stream = stream_of[p.queue]
        out: dict = {}
        for a in p.accesses:
            tracker.access(pos, p.name, stream, a, out)
        transitions, cross, rels = _collect(out)
        cs = Stage(0)
        for a in p.accesses:
            cs |= a.stages
        cross = tuple(CrossDep(c.stream, c.position, _wait_stages(out, c.stream, cs), c.ownership) for c in cross)
        passes.append(PassSync(pos, p_index, stream, transitions, cross, rels))
    finals, final_stream = _final_states(rg, tracker, len(order))
    return Tracked(tuple(passes), finals, tracker.first_use, tracker.last_stream, final_stream)


def _wait_stages(out, stream, fallback) -> Stage:
    """The narrowest stages a semaphore wait on `stream` must cover: the consumers' own stages."""
    m = 0
    for key, (_units, _r, xs, _o, _p) in out.items():
        if stream in xs:
            m |= key[4]
    return Stage(m) if m else fallback


def _final_states(rg: ResolvedGraph, tracker: Tracker, end_pos: int) -> tuple[tuple[FinalSync, ...], dict]:
    """Imported resources end in their declared final state: a virtual access at the frame's end.

    A resource whose contents carry into the next frame (a defined initial state) ends on the
    queue that first uses it, where the next frame's first use will follow it in queue order (and
    owned by that queue's family); others end on the queue that used them last."""
    per_stream: dict[str, list] = {}
    final_stream: dict[int, str] = {}
    for r in sorted(tracker.units):
        res = rg.resources[r]
        decl = res.decl
        if not decl.imported or decl.final is None:
            continue
        info = lookup(decl.final)
        layout = layout_for_format(info.layout, decl.desc.format) if res.is_image else None
        carries = decl.initial != "undefined"
        stream = tracker.first_stream[r] if carries else tracker.last_stream[r]
        final_stream[r] = stream
        fake = ResolvedAccess(r, tuple(range(res.unit_count)), info.stages, info.access, layout, False)
        out = per_stream.setdefault(stream, {})
        tracker.access(end_pos, None, stream, fake, out)
    finals = []
    for stream, out in per_stream.items():
        # A final state is a consumer named None; relabel its reasons as "final".
        for key, entry in out.items():
            entry[1][:] = [Reason(x.producer, None, x.resource, "final" if x.hazard != "ownership" else x.hazard)
                           for x in entry[1]]
        transitions, cross, rels = _collect(out)
        cross = tuple(CrossDep(c.stream, c.position, Stage.ALL_COMMANDS, c.ownership) for c in cross)
        finals.append(FinalSync(stream, transitions, cross, rels))
    return tuple(finals), final_stream
