"""Stage: track. Walk the ordered passes keeping each subresource unit's state (layout, last write,
reads since, where the write is visible, owning family) and derive exactly the synchronization
each access needs, per pass: barrier entries for its stream, semaphore needs on other streams, and
ownership releases that another stream records. Strategies decide only where these become commands.

Aliasing is not tracked here: a transient's first use of each unit is left as a `fresh` entry that
the hand-off stage turns into a plain transition or a hand-off from the memory's earlier occupants
(so tracking runs once, before placement). Masks are plain ints on this hot path.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..access import layout_for_format, lookup
from ..plan import Reason
from ..vk import Access, Layout, Stage, WRITE_ACCESS, as_access, as_stage
from .validate import ResolvedAccess, ResolvedGraph

_WRITE = int(WRITE_ACCESS)

# Stages a stream's queue family can execute. A stream other than "graphics" runs on a family of
# its own (async compute, or transfer-only); stage masks there may not name graphics stages.
_ANYWHERE = int(Stage.TOP_OF_PIPE | Stage.BOTTOM_OF_PIPE | Stage.ALL_COMMANDS | Stage.HOST | Stage.ALL_TRANSFER
                | Stage.COPY)
_SUPPORTED = {"compute": _ANYWHERE | int(Stage.COMPUTE_SHADER | Stage.DRAW_INDIRECT | Stage.CLEAR),
              "transfer": _ANYWHERE}
_ALL_COMMANDS = int(Stage.ALL_COMMANDS)
_HOST = int(Stage.HOST)
_EARLY_TESTS, _LATE_TESTS = int(Stage.EARLY_FRAGMENT_TESTS), int(Stage.LATE_FRAGMENT_TESTS)
_DEPTH_ATTACHMENT = frozenset((Layout.DEPTH_ATTACHMENT_OPTIMAL, Layout.DEPTH_STENCIL_ATTACHMENT_OPTIMAL))
_UNDEFINED = Layout.UNDEFINED


def _fit_stages(mask: int, stream: str) -> int:
    """States from outside the frame (initial, final) may name stages the queue that synchronizes
    them cannot execute; ALL_COMMANDS is then the valid mask that still covers them."""
    supported = _SUPPORTED.get(stream)
    if supported is None or not mask & ~supported:
        return mask
    return _ALL_COMMANDS


# Every access bit: a semaphore makes memory visible to all of them (the meta bits MEMORY_READ /
# MEMORY_WRITE alone would not cover e.g. SHADER_SAMPLED_READ in a bitmask comparison).
ALL_ACCESS = Access(0)
for _bit in Access:
    ALL_ACCESS |= _bit
_ALL_ACCESS = int(ALL_ACCESS)

BARRIER, ACQUIRE, RELEASE, CROSS, FRESH, ALIAS = "barrier", "acquire", "release", "cross", "fresh", "alias"


class EntryKey(NamedTuple):
    """What one barrier entry does; units of one resource with equal keys share one entry."""
    kind: str                  # barrier | acquire | cross (semaphore only) | fresh (first use of a transient)
                               # | alias (a hand-off's global memory barrier)
    resource: int
    src_stages: int
    src_access: int
    dst_stages: int
    dst_access: int
    old_layout: Layout | None
    new_layout: Layout | None
    src_family: int | None = None
    dst_family: int | None = None
    src_stream: str | None = None   # acquire: the stream that records the matching release


class Entry:
    """What the units sharing one key accumulate within a pass."""
    __slots__ = ("units", "reasons", "cross", "ownership", "last_pos", "release_after")

    def __init__(self) -> None:
        self.units: list[int] = []
        self.reasons: list[Reason] = []
        self.cross: dict[str, int] = {}     # producing stream -> latest position waited for
        self.ownership = False
        self.last_pos = -1                  # latest same-stream access depended on
        # acquire: other streams of the releasing family whose accesses the release must follow
        self.release_after: dict[str, int] = {}

    def add(self, unit: int, reasons, cross: dict, ownership: bool, last_pos: int) -> None:
        self.units.append(unit)
        self.reasons.extend(reasons)
        for s, p in cross.items():
            if self.cross.get(s, -1) < p:
                self.cross[s] = p
        self.ownership = self.ownership or ownership
        if last_pos > self.last_pos:
            self.last_pos = last_pos


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
    kind: str = BARRIER              # barrier | release | acquire | alias (a hand-off's memory barrier)
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
class Release:
    """An ownership release another stream records before this pass's acquire. The family's other
    queues may have used the resource too: the releasing stream first waits for them."""
    stream: str                       # the stream that records it
    transition: Transition | None     # None when only the submit layout is wanted (waits only)
    after: tuple[CrossDep, ...] = ()


@dataclass(frozen=True, slots=True)
class PassSync:
    position: int
    pass_index: int
    stream: str
    transitions: tuple[Transition, ...]
    cross: tuple[CrossDep, ...]
    releases: tuple[Release, ...]


@dataclass(frozen=True, slots=True)
class FinalSync:
    stream: str
    transitions: tuple[Transition, ...]
    cross: tuple[CrossDep, ...]
    releases: tuple[Release, ...]


@dataclass(frozen=True, slots=True)
class LastUse:
    """A transient's last accesses on one stream, folded: what a later occupant of its memory must
    wait for there."""
    stream: str
    stages: int
    write_access: int
    position: int
    pass_name: str | None


@dataclass(frozen=True, slots=True)
class PassNeeds:
    """One pass's entries before collection (the hand-off stage may still rewrite `fresh` ones)."""
    position: int
    pass_index: int
    stream: str
    stages: int                       # every stage the pass uses (a wait's fallback mask)
    entries: dict                     # EntryKey -> Entry, in the order the accesses made them


@dataclass(frozen=True, slots=True)
class Synced:
    """What tracking found: per pass and per final state the entries, plus the facts later stages
    need (swapchain first use, which stream ends each resource, transients' last uses)."""
    passes: tuple[PassNeeds, ...]
    finals: tuple[FinalSync, ...]
    first_use: dict            # resource index -> (position, stages) of its first use (swapchain acquire)
    last_stream: dict          # resource index -> stream that touched it last
    final_stream: dict         # resource index -> stream its final state is established on
    last_uses: dict            # transient resource index -> tuple[LastUse, ...] in stream first-seen order
    fresh_positions: tuple[int, ...]   # positions of passes holding `fresh` entries


@dataclass(frozen=True, slots=True)
class Tracked:
    """Collected synchronization per pass, ready for the submit builder."""
    passes: tuple[PassSync, ...]
    finals: tuple[FinalSync, ...]
    first_use: dict
    last_stream: dict
    final_stream: dict


class _Acc:
    __slots__ = ("pos", "stream", "stages", "access", "name", "after")

    def __init__(self, pos, stream, stages, access, name):
        self.pos, self.stream, self.stages, self.access, self.name = pos, stream, stages, access, name
        self.after: dict[str, int] = {}   # stream -> stages execution-ordered after this access


class _Unit:
    __slots__ = ("layout", "defined", "write", "vis", "reads", "owner", "acquire", "unclaimed")

    def __init__(self, layout, defined, owner):
        self.unclaimed = False  # holds the state on entry, not yet given to the queue that first uses it
        self.acquire = False    # a swapchain image's first use chains after the acquire semaphore
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


class _Need:
    """Accumulates what one access of one unit needs."""
    __slots__ = ("src_stages", "src_access", "on_write", "last_pos", "cross", "reasons")

    def __init__(self) -> None:
        self.src_stages = 0
        self.src_access = 0
        self.on_write = False   # depends on a write (RAW/WAW): the consumer's access must be made visible
        self.last_pos = -1      # latest same-stream access depended on (where a split event can be set)
        self.cross: dict[str, int] = {}   # stream -> max position
        self.reasons: list[Reason] = []

    def depend(self, acc: _Acc, stream: str, is_write: bool, reason: Reason) -> None:
        self.reasons.append(reason)
        if acc.stream is None or acc.stream == stream:
            self.on_write = self.on_write or is_write
            if acc.pos > self.last_pos:
                self.last_pos = acc.pos
            self.src_stages |= acc.stages if acc.name is not None else _fit_stages(acc.stages, stream)
            if is_write:
                self.src_access |= acc.access & _WRITE
        elif self.cross.get(acc.stream, -1) < acc.pos:
            self.cross[acc.stream] = acc.pos


class _Access(NamedTuple):
    """The access being tracked, with the facts every unit step needs."""
    pos: int
    name: str | None       # pass name; None for a final state
    stream: str
    family: int
    resource: int
    res_name: str
    stages: int
    access: int
    writes: bool
    reads: bool
    layout: Layout | None
    discard: bool
    shared: bool           # CONCURRENT sharing: no ownership transfers
    transient: bool


class Tracker:
    def __init__(self, rg: ResolvedGraph, stream_of: dict, family_of: dict, concurrent: bool):
        self.rg = rg
        self.stream_of = stream_of          # logical queue -> stream
        self.family_of = family_of          # stream -> family
        self.concurrent = concurrent
        self.units: dict[int, list[_Unit]] = {}
        self.first_use: dict[int, tuple[int, int]] = {}
        self.first_stream: dict[int, str] = {}
        self.last_stream: dict[int, str] = {}
        self.fresh_positions: list[int] = []

    def _state(self, r: int) -> list[_Unit]:
        res = self.rg.resources[r]
        decl = res.decl
        layout = _UNDEFINED if res.is_image else None
        units = [_Unit(layout, False, None) for _ in range(res.unit_count)]
        if decl.imported and decl.initial != "undefined":
            info = lookup(decl.initial)
            if res.is_image:
                layout = layout_for_format(info.layout, decl.desc.format)
            # Host writes made before the frame's submission need no barrier: submitting defines a
            # memory dependency from them to every command of the submission and later ones (the
            # spec's host write ordering guarantee), so there is nothing to wait for.
            host_written = info.writes and int(info.stages) == _HOST
            for u in units:
                u.layout, u.defined, u.unclaimed = layout, True, not host_written
                if host_written:
                    continue
                acc = _Acc(-1, None, int(info.stages), int(info.access), None)
                if info.writes:
                    u.write = acc
                else:
                    u.reads.append(acc)
        if decl.swapchain:
            for u in units:
                u.acquire = True
        self.units[r] = units
        return units

    def access(self, pos: int, name: str | None, stream: str, a: ResolvedAccess, out: dict) -> None:
        """Derive the needs of one access unit by unit, and apply it to the unit states."""
        r = a.resource
        units = self.units.get(r)
        if units is None:
            units = self._state(r)
        res = self.rg.resources[r]
        cs = a.stages if name is not None else _fit_stages(a.stages, stream)   # None: the final state
        x = _Access(pos, name, stream, self.family_of[stream], r, res.decl.name, cs, a.access, a.writes, a.reads,
                    a.layout, a.discard, self.concurrent or res.decl.sharing == "concurrent", res.decl.transient)
        if r not in self.first_use:
            self.first_use[r] = (pos, cs)
            self.first_stream[r] = stream
        self.last_stream[r] = stream
        fresh = None
        fresh_reason = (Reason(None, name, x.res_name, "layout"),) if a.layout is not None else ()
        for u_index in a.units:
            st = units[u_index]
            if x.transient and not st.defined:
                # A transient's first use of this unit: the hand-off stage decides what it waits for.
                if fresh is None:
                    fresh = out.setdefault(EntryKey(FRESH, r, 0, 0, cs, a.access, _UNDEFINED if a.layout is not None else None,
                                                    a.layout), Entry())
                    if not self.fresh_positions or self.fresh_positions[-1] != pos:
                        self.fresh_positions.append(pos)
                fresh.add(u_index, fresh_reason, {}, False, -1)
                self._apply(st, x, _Need(), a.layout is not None, None)
                continue
            if st.unclaimed:
                _claim(st, stream, pos)
            self._unit(st, u_index, x, out)

    def _unit(self, st: _Unit, u_index: int, x: _Access, out: dict) -> None:
        need = _Need()
        layout_change = x.layout is not None and st.layout != x.layout
        # A depth attachment written again with discard (load op CLEAR/DONT_CARE): transition from
        # UNDEFINED, after the earlier store (LATE_FRAGMENT_TESTS), before this load op
        # (EARLY_FRAGMENT_TESTS), as in the Khronos "depth re-use" example. The driver may then skip
        # preserving the contents, and the rest of the render pass is ordered after its load op.
        reuse = (x.discard and x.writes and x.layout in _DEPTH_ATTACHMENT and st.layout == x.layout
                 and st.write is not None and not layout_change)
        if reuse:
            layout_change = True
        self._hazards(st, x, need, layout_change)
        # Ownership: contents made on another family must be released there and acquired here.
        transfer_from = None
        if st.owner is not None and st.owner != x.family and st.defined and not x.discard and not x.shared:
            transfer_from = st.owner
        old_layout = st.layout
        if layout_change and (x.discard or not st.defined):
            # A transition from UNDEFINED discards the contents, which nobody needs. Without a
            # layout change there is no transition at all (an UNDEFINED->X "transition" would be
            # a write the consumer must then be made to see).
            old_layout = _UNDEFINED
        if transfer_from is not None:
            self._acquire_entry(st, u_index, x, need, old_layout, transfer_from, out)
        else:
            dst_stages = x.stages
            if reuse or (x.discard and x.layout in _DEPTH_ATTACHMENT and layout_change):
                dst_stages = _EARLY_TESTS   # the load op; the render pass orders the rest after it
                if need.src_stages & _LATE_TESTS:
                    need.src_stages &= ~_EARLY_TESTS   # logically earlier: LATE covers it
            self._barrier_entry(u_index, x, need, layout_change, old_layout, out, dst_stages)
        self._apply(st, x, need, layout_change, transfer_from)

    def _hazards(self, st: _Unit, x: _Access, need: _Need, layout_change: bool) -> None:
        """What this access must wait for: RAW/WAW on the last write, WAR on reads since it, the
        layout transition, and a swapchain image's acquire."""
        if st.acquire:
            st.acquire = False
            need.src_stages |= x.stages
            need.reasons.append(Reason(None, x.name, x.res_name, "layout"))
        cs, ca = x.stages, x.access
        w = st.write
        if w is not None:
            raw = x.reads and not _covered(st.vis, x.stream, cs, ca & ~_WRITE)
            waw = x.writes and not _covered(st.vis, x.stream, cs, ca & _WRITE)
            if raw or waw or layout_change:
                need.depend(w, x.stream, True, Reason(w.name, x.name, x.res_name,
                                                      "RAW" if raw else ("WAW" if waw else "layout")))
        if x.writes or layout_change:
            hazard = "WAR" if x.writes else "layout"
            for rd in st.reads:
                if layout_change or (cs & ~rd.after.get(x.stream, 0)):
                    need.depend(rd, x.stream, False, Reason(rd.name, x.name, x.res_name, hazard))
        if layout_change and not need.reasons:
            need.reasons.append(Reason(None, x.name, x.res_name, "layout"))

    def _acquire_entry(self, st, u_index, x: _Access, need: _Need, old_layout, transfer_from, out) -> None:
        """The release/acquire pair performs the layout transition and the availability; the
        semaphore between them must be an ALL_COMMANDS one. Release and acquire are one entry keyed
        together, so their ranges match exactly; the key carries the release's source masks."""
        src_stream = _owner_stream(st)
        need.cross[src_stream] = max(need.cross.get(src_stream, -1), _last_pos(st, src_stream))
        # Other queues of the releasing family that used it since: the release must follow them too.
        after = {}
        for acc in ([st.write] if st.write is not None else []) + st.reads:
            if (acc.stream is not None and acc.stream != src_stream
                    and self.family_of.get(acc.stream) == transfer_from and acc.pos > after.get(acc.stream, -2)):
                after[acc.stream] = acc.pos
        key = EntryKey(ACQUIRE, x.resource, _stream_stages(st, src_stream), _stream_write_access(st, src_stream),
                       x.stages, x.access, old_layout, x.layout, transfer_from, x.family, src_stream)
        entry = out.get(key)
        if entry is None:
            entry = out[key] = Entry()
        entry.add(u_index, need.reasons + [Reason(_last_name(st), x.name, x.res_name, "ownership")], need.cross,
                  True, -1)
        for s, p in after.items():
            if entry.release_after.get(s, -2) < p:
                entry.release_after[s] = p

    @staticmethod
    def _barrier_entry(u_index, x: _Access, need: _Need, layout_change: bool, old_layout, out,
                       dst_stages: int) -> None:
        src_stages = need.src_stages
        if need.cross and layout_change:
            src_stages |= x.stages   # chain the layout transition after the semaphore wait
        if src_stages or layout_change:
            # A pure WAR needs only an execution dependency; anything that makes memory
            # visible (or transitions a layout) names the consumer's access.
            dst_access = x.access if (need.on_write or layout_change) else 0
            key = EntryKey(BARRIER, x.resource, src_stages, need.src_access, dst_stages, dst_access,
                           old_layout if x.layout is not None else None, x.layout)
        elif need.cross:
            # Only a semaphore wait is needed; the key still records the consumer stages it must cover.
            key = EntryKey(CROSS, x.resource, 0, 0, x.stages, 0, None, None)
        else:
            return
        entry = out.get(key)
        if entry is None:
            entry = out[key] = Entry()
        entry.add(u_index, need.reasons, need.cross, False, need.last_pos)

    @staticmethod
    def _apply(st: _Unit, x: _Access, need: _Need, layout_change: bool, transfer_from) -> None:
        """Apply the synchronization, then the access itself, to the unit's state."""
        stream, cs = x.stream, x.stages
        transition = layout_change or transfer_from is not None
        if need.src_stages or need.cross or transition:
            # A bare semaphore wait makes memory visible to every access at its stages; a
            # transition or an acquire recorded after it is a write visible only to that
            # barrier's destination access scope.
            vis_access = _ALL_ACCESS if need.cross and not transition else x.access
            st.vis.append((stream, cs, vis_access))
            # Only the reads this synchronization covers are now ordered before `cs`: same-queue
            # reads within the barrier's source stages, other-queue reads up to the waited value.
            for rd in st.reads:
                if rd.stream == stream or rd.stream is None:
                    covered = (rd.stages & ~need.src_stages) == 0
                else:
                    covered = need.cross.get(rd.stream, -1) >= rd.pos
                if covered:
                    rd.after[stream] = rd.after.get(stream, 0) | cs
            if transition:
                # A layout transition (or an ownership acquire) is itself a write, done by this
                # barrier and complete only for its destination stages: later accesses at other
                # stages must chain from those stages.
                # Its access bits are the previous write's only when that ran on this queue: the
                # stage mask then still names the stages that perform them (an acquired write's
                # bits would pair e.g. COLOR_ATTACHMENT_WRITE with COMPUTE_SHADER, which is invalid;
                # the transfer already made it available).
                prev = st.write
                same = prev is not None and prev.stream == stream
                st.write = _Acc(x.pos, stream, cs | (prev.stages if same else 0), prev.access if same else 0,
                                prev.name if prev is not None else x.name)
                st.vis = [(stream, cs, vis_access)]
                st.reads = []
        if x.layout is not None:
            st.layout = x.layout
        acc = _Acc(x.pos, stream, cs, x.access, x.name)
        if x.writes:
            st.write = acc
            st.vis = []   # a write is visible to nothing until a later barrier says so
            st.reads = []
            st.defined = True
            st.owner = x.family
        else:
            st.reads.append(acc)
            if st.defined and transfer_from is not None:
                st.owner = x.family
            elif st.owner is None:
                st.owner = x.family

    def last_uses(self) -> dict:
        """Each transient's last accesses, folded per stream (union of stages and write bits, the
        latest position): what a later occupant of the same memory is ordered after. A write some
        barrier (or semaphore) already made visible, hence available, has no write bits left to hand
        over: the later occupant then needs only the execution dependency."""
        out = {}
        for r, units in self.units.items():
            if not self.rg.resources[r].decl.transient:
                continue
            out[r] = fold_per_stream(
                LastUse(acc.stream, acc.stages, acc.access & _WRITE if (acc is u.write and not u.vis) else 0,
                        acc.pos, acc.name)
                for u in units for acc in ([u.write] if u.write is not None else []) + u.reads)
        return out


def fold_per_stream(uses) -> tuple[LastUse, ...]:
    """Last uses folded per stream, streams in first-seen order: union of stages and write bits, the
    latest position and its pass. A later occupant's dependency on them is the same, and the work
    is per queue instead of per access."""
    per_stream: dict[str, list] = {}
    for lu in uses:
        cur = per_stream.get(lu.stream)
        if cur is None:
            per_stream[lu.stream] = [lu.stages, lu.write_access, lu.position, lu.pass_name]
        else:
            cur[0] |= lu.stages
            cur[1] |= lu.write_access
            if lu.position > cur[2]:
                cur[2], cur[3] = lu.position, lu.pass_name
    return tuple(LastUse(s, *v) for s, v in per_stream.items())


def _claim(st: _Unit, stream: str, pos: int) -> None:
    """The state on entry belongs to the queue that first uses it: waiting for that first use's
    submit on another queue orders it too. Its stages are the previous frame's: fitted to what this
    queue can execute. Once per unit (walking every read on every access was quadratic)."""
    st.unclaimed = False
    if st.write is not None and st.write.stream is None:
        st.write.stream, st.write.pos = stream, pos
        st.write.stages = _fit_stages(st.write.stages, stream)
    for rd in st.reads:
        if rd.stream is None:
            rd.stream, rd.pos = stream, pos
            rd.stages = _fit_stages(rd.stages, stream)


def _owner_stream(st: _Unit) -> str:
    last = st.write
    for rd in st.reads:
        if last is None or (rd.stream is not None and rd.pos > last.pos):
            last = rd
    return last.stream


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


def track(rg: ResolvedGraph, order: tuple[int, ...], stream_of: dict, family_of: dict,
          concurrent: bool = False) -> Synced:
    tracker = Tracker(rg, stream_of, family_of, concurrent)
    passes = []
    for pos, p_index in enumerate(order):
        p = rg.passes[p_index]
        stream = stream_of[p.queue]
        out: dict = {}
        cs = 0
        for a in p.accesses:
            tracker.access(pos, p.name, stream, a, out)
            cs |= a.stages
        passes.append(PassNeeds(pos, p_index, stream, cs, out))
    last_uses = tracker.last_uses()
    finals, final_stream = _final_states(rg, tracker, len(order))
    return Synced(tuple(passes), finals, tracker.first_use, tracker.last_stream, final_stream, last_uses,
                  tuple(tracker.fresh_positions))


def collect(synced: Synced) -> Tracked:
    """Entries become transitions, semaphore needs and releases per pass."""
    passes = []
    for pn in synced.passes:
        transitions, rels = _collect(pn.entries)
        passes.append(PassSync(pn.position, pn.pass_index, pn.stream, transitions,
                               _crosses(pn.entries, pn.stages), rels))
    return Tracked(tuple(passes), synced.finals, synced.first_use, synced.last_stream, synced.final_stream)


def semaphore_needs(synced: Synced) -> Tracked:
    """Only what orders streams (semaphore needs, and on which stream each release is recorded),
    without building barrier entries: enough to lay out the frame's submits and waits before
    placement. Fresh entries carry no semaphore need before hand-offs exist."""
    passes = []
    for pn in synced.passes:
        rels = tuple(Release(key.src_stream, None, _release_after(e)) for key, e in pn.entries.items()
                     if key.kind == ACQUIRE)
        passes.append(PassSync(pn.position, pn.pass_index, pn.stream, (), _crosses(pn.entries, pn.stages), rels))
    return Tracked(tuple(passes), synced.finals, synced.first_use, synced.last_stream, synced.final_stream)


def _release_after(e: Entry) -> tuple[CrossDep, ...]:
    return tuple(CrossDep(s, p, Stage.ALL_COMMANDS, False) for s, p in e.release_after.items())


def _crosses(entries: dict, fallback: int, stages: int | None = None) -> tuple[CrossDep, ...]:
    """Per producing stream: the latest position waited for, whether an ownership transfer rides on
    the wait, and the narrowest stages it must cover (the consumers' own, or `stages` if given)."""
    cross: dict[str, list] = {}
    for key, e in entries.items():
        for s, p in e.cross.items():
            cur = cross.get(s)
            if cur is None:
                cross[s] = [p, e.ownership, key.dst_stages]
            else:
                cur[0] = max(cur[0], p)
                cur[1] = cur[1] or e.ownership
                cur[2] |= key.dst_stages
    return tuple(CrossDep(s, p, as_stage(stages if stages is not None else (m if m else fallback)), own)
                 for s, (p, own, m) in cross.items())


def _dedup(reasons) -> tuple[Reason, ...]:
    return tuple(dict.fromkeys(reasons))


def _collect(out: dict):
    transitions, rels = [], []
    for key, e in out.items():
        kind = key.kind
        if kind == CROSS:
            continue
        if kind == FRESH:
            # A first use no earlier occupant shares memory with (hand-offs rewrote the others).
            if key.new_layout is None:
                continue
            key = EntryKey(BARRIER, key.resource, 0, 0, key.dst_stages, key.dst_access, key.old_layout, key.new_layout)
            kind = BARRIER
        units = e.units
        units = tuple(units) if len(units) == 1 else tuple(sorted(set(units)))
        ss, sa = key.src_stages, key.src_access
        reasons = _dedup(e.reasons)
        if kind == ACQUIRE:
            # The acquire's source scope is empty; the release (recorded on the source stream)
            # carries the producer's masks. Same units, layouts and families in both.
            rels.append(Release(key.src_stream, Transition(key.resource, units, as_stage(ss), as_access(sa), Stage.NONE,
                                                           Access.NONE, key.old_layout, key.new_layout,
                                                           key.src_family, key.dst_family, RELEASE, reasons),
                                _release_after(e)))
            ss, sa = 0, 0
        transitions.append(Transition(key.resource, units, as_stage(ss), as_access(sa), as_stage(key.dst_stages),
                                      as_access(key.dst_access), key.old_layout, key.new_layout, key.src_family,
                                      key.dst_family, kind, reasons, e.last_pos))
    return tuple(transitions), tuple(rels)


def _final_states(rg: ResolvedGraph, tracker: Tracker, end_pos: int) -> tuple[tuple[FinalSync, ...], dict]:
    """Imported resources end in their declared final state: a virtual access at the frame's end.

    A resource whose contents carry into the next frame (a defined initial state) ends on the
    queue that first uses it, where the next frame's first use will follow it in queue order (and
    owned by that queue's family); others end on the queue that used them last."""
    per_stream: dict[str, dict] = {}
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
        fake = ResolvedAccess.of(r, tuple(range(res.unit_count)), info.stages, info.access, layout, False)
        out = per_stream.setdefault(stream, {})
        tracker.access(end_pos, None, stream, fake, out)
    finals = []
    for stream, out in per_stream.items():
        # A final state is a consumer named None; relabel its reasons as "final".
        for e in out.values():
            e.reasons[:] = [Reason(x.producer, None, x.resource, "final" if x.hazard != "ownership" else x.hazard)
                            for x in e.reasons]
        transitions, rels = _collect(out)
        finals.append(FinalSync(stream, transitions, _crosses(out, 0, _ALL_COMMANDS), rels))
    return tuple(finals), final_stream
