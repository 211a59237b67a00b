"""Stage: submits. lay the barrier points and passes into per-stream submits, with timeline
semaphore waits where a pass needs another stream's work, ownership release/acquire, the
swapchain's acquire wait and present signal, and (batched) merging of barrier calls across passes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..plan import BarrierCmd, PassCmd, ResetEventCmd, SetEventCmd, Submit, Wait, WaitEventsCmd
from ..vk import Layout, Stage
from .barriers import entries_dependency, point_dependencies, reasons_of
from .clock import QueueClock
from .tracking import CrossDep, Tracked, Transition
from .validate import ResolvedGraph

_ATTACHMENT_LAYOUTS = frozenset((Layout.COLOR_ATTACHMENT_OPTIMAL, Layout.DEPTH_STENCIL_ATTACHMENT_OPTIMAL,
                                 Layout.DEPTH_ATTACHMENT_OPTIMAL, Layout.ATTACHMENT_OPTIMAL))


def event_may_carry(t: Transition, image_used_before_wait: bool) -> bool:
    """Whether a split event may carry `t`, whose producers allow it. A layout transition in
    vkCmdSetEvent2 may run at the set; two cases the spec allows corrupted renders on the H100
    (driver 580), though neither the verifier's spec model nor sync validation objects
    (scripts/diag_split.py localised both; `verify_plan(..., driver_rules=True)` checks them):
    - a transition while passes between set and wait use other parts of the same image (one mip
      transitioned while other mips are rendered);
    - a transition from UNDEFINED into an attachment layout (an aliased render target taking over
      memory) while other images are rendered before the wait: the deferred sample with SSAO on a
      second stream, or placed first-fit, came out garbage. UNDEFINED -> GENERAL for storage images
      in events rendered correctly there (the producer-gap workload, checked every frame).
    Such transitions stay in pipeline barriers; the events still split everything else."""
    if not t.layout_change:
        return True
    if image_used_before_wait:
        return False
    return not (t.old_layout == Layout.UNDEFINED and t.new_layout in _ATTACHMENT_LAYOUTS)


_NO_CLOCK = QueueClock()


@dataclass(frozen=True, slots=True)
class Submits:
    """The submit stage's result: submits in host order, their statistics, and the stream each
    imported resource ends on."""
    submits: tuple[Submit, ...]
    stats: dict
    final_stream: dict


@dataclass
class _Open:
    waits: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    # for cross-pass merging and split events: where each pass sits, what the last pass touched,
    # and the command index of the latest pass touching each unit
    pass_at: dict = field(default_factory=dict)       # order position -> command index of that pass
    last_pass_pos: int = -1                           # order position of the latest pass recorded
    last_pass_units: set = field(default_factory=set)
    last_touch: dict = field(default_factory=dict)    # (resource, unit) -> command index
    last_touch_resource: dict = field(default_factory=dict)   # resource -> command index
    after: dict = field(default_factory=dict)         # command index -> set_event commands that follow it
    present: list = field(default_factory=list)
    events: list = field(default_factory=list)   # events set and waited in this submit


@dataclass
class _Stream:
    name: str
    submits: list = field(default_factory=list)
    open: _Open = field(default_factory=_Open)
    # what this stream has already waited for, directly or through the submits it waited for
    known: QueueClock = field(default_factory=QueueClock)
    passes_seen: int = 0


class SubmitBuilder:
    """Lays the tracked passes into submits. With `waits_only` it records no commands, only where
    submits close and which waits they carry (the frame's semaphore order, needed before placement)."""

    def __init__(self, rg: ResolvedGraph, tracked: Tracked, strategy: str, streams: list[str], order, *,
                 waits_only: bool = False):
        self.rg = rg
        self.waits_only = waits_only
        self.tracked = tracked
        self.strategy = strategy
        self.order = order
        self.streams = {s: _Stream(s) for s in streams}
        self.host_order: list[tuple[str, int]] = []     # (stream, submit index) in closing order
        self.pos_submit: dict[int, tuple[str, int]] = {}  # order position -> (stream, submit index)
        self.signal_known: dict[tuple[str, int], QueueClock] = {}   # (stream, value) -> its clock
        self.stats = {"barrier_calls": 0, "image_barriers": 0, "buffer_barriers": 0, "memory_barriers": 0,
                      "events": 0, "semaphore_waits": 0}

    # -- submits ---------------------------------------------------------------------------
    def _close(self, s: _Stream) -> int | None:
        """Close the open submit (if any work is in it) and return the value it signals."""
        if not s.open.commands and not s.open.waits:
            return len(s.submits) or None
        # Events are reset at the end of the submit that used them, at ALL_COMMANDS: the reset
        # then follows every earlier command, the wait included, so the pool can hand them out
        # again in the next submit or frame.
        for e in s.open.events:
            s.open.commands.append(ResetEventCmd(event=e, stages=Stage.ALL_COMMANDS))
        if s.open.after:
            merged = []
            for i, c in enumerate(s.open.commands):
                merged.append(c)
                merged.extend(s.open.after.get(i, ()))
            s.open.commands = merged
        s.submits.append(s.open)
        self.host_order.append((s.name, len(s.submits) - 1))
        value = len(s.submits)
        self.signal_known[(s.name, value)] = s.known.copy()
        s.open = _Open()
        return value

    def _value_covering(self, stream: str, position: int, ownership: bool) -> int | None:
        s = self.streams[stream]
        if ownership:
            return self._close(s)   # the release was just appended to the open submit
        if position < 0:
            return None
        where = self.pos_submit.get(position)
        if where is None:
            return None
        _, index = where
        if index >= len(s.submits):
            self._close(s)
        return index + 1

    def _add_waits(self, s: _Stream, crosses: tuple[CrossDep, ...]) -> None:
        waits = []
        for c in crosses:
            value = self._value_covering(c.stream, c.position, c.ownership)
            if value is None:
                continue
            stages = Stage.ALL_COMMANDS if c.ownership else c.stages
            if not s.known.implies(c.stream, value, stages):
                waits.append(Wait(queue=c.stream, value=value, stages=stages))
        if not waits:
            return
        # Waits implied transitively by another new wait are dropped too.
        kept = [w for w in waits if not any(
            other is not w and (w.stages & ~other.stages) == 0
            and self._clock(other.queue, other.value).highest(w.queue) >= w.value for other in waits)]
        if s.open.commands:
            self._close(s)
        s.open.waits.extend(kept)
        for w in kept:
            s.known.add(w.queue, w.value, w.stages)
            s.known.merge(self._clock(w.queue, w.value), w.stages)

    def _clock(self, stream: str, value: int) -> QueueClock:
        return self.signal_known.get((stream, value)) or _NO_CLOCK

    # -- commands --------------------------------------------------------------------------
    def _split_events(self, s: _Stream, transitions: tuple[Transition, ...]) -> tuple[Transition, ...]:
        """Split: a dependency whose producers all ran in this submit, with at least one pass between
        the last of them and here that touches none of its units, becomes a VkEvent set right after
        that producer and waited here. Returns the transitions left for a pipeline barrier."""
        o = s.open
        last_pass = o.pass_at.get(o.last_pass_pos, -1)   # command index of the latest pass
        by_point: dict[int, list[Transition]] = {}
        rest = []
        # A hand-off's transition must run after its memory barrier makes the old occupant's writes
        # available: both stay in the pipeline barrier.
        handed_off = {t.resource for t in transitions if t.kind == "alias"}
        for t in transitions:
            # Producers are located by order position, not by provenance names: the set goes right
            # after the latest same-stream access the dependency waits for (earlier submits on the
            # queue are in the set's first scope anyway).
            point = o.pass_at.get(t.producer_pos) if t.kind == "barrier" and t.resource not in handed_off else None
            if point is not None:
                # Worth an event only with a pass in between, and only if none of those touch the units.
                if point >= last_pass or any(o.last_touch.get((t.resource, u), -1) > point for u in t.units):
                    point = None
                elif not event_may_carry(t, o.last_touch_resource.get(t.resource, -1) > point):
                    point = None
            if point is None:
                rest.append(t)
            else:
                by_point.setdefault(point, []).append(t)
        if not by_point:
            return transitions
        waits, deps, reasons = [], [], []
        for point in sorted(by_point, reverse=True):
            ts = by_point[point]
            dep = entries_dependency(self.rg, ts)
            name = f"e{len(o.events)}"
            o.events.append(name)
            why = reasons_of(ts)
            o.after.setdefault(point, []).append(SetEventCmd(event=name, dependency=dep, reasons=why))
            waits.append(name)
            deps.append(dep)
            reasons.extend(why)
        o.commands.append(WaitEventsCmd(events=tuple(waits), dependencies=tuple(deps), reasons=tuple(reasons)))
        return tuple(rest)

    def _emit_barriers(self, s: _Stream, transitions: tuple[Transition, ...], first: bool,
                       next_touch: set | None) -> None:
        if self.strategy == "split":
            transitions = self._split_events(s, transitions)
        calls = point_dependencies(self.rg, self.strategy, transitions, first_on_stream=first)
        if (self.strategy in ("batched", "split") and len(calls) == 1 and next_touch is not None
                and self._merge_back(s, transitions, calls[0])):
            return
        for dep, reasons in calls:
            s.open.commands.append(BarrierCmd(dependency=dep, reasons=reasons))

    def _merge_back(self, s: _Stream, transitions, call) -> bool:
        """Batched: fold this point's barrier into the previous point's call when only one pass sits
        between them, that pass touches none of these units, and it produced none of them."""
        cmds = s.open.commands
        if len(cmds) < 2 or not isinstance(cmds[-1], PassCmd) or not isinstance(cmds[-2], BarrierCmd):
            return False
        if len(cmds) >= 3 and isinstance(cmds[-3], WaitEventsCmd):
            return False
        between_pos = s.open.last_pass_pos
        touched = s.open.last_pass_units
        for t in transitions:
            if t.kind not in ("barrier", "alias"):
                return False
            if t.producer_pos >= between_pos:
                return False
            if any((t.resource, u) in touched for u in t.units):
                return False
        prev = cmds[-2]
        cmds[-2] = BarrierCmd(dependency=prev.dependency.merged(call[0]), reasons=prev.reasons + call[1])
        return True

    def _emit_releases(self, releases) -> None:
        by_stream: dict[str, list] = {}
        for rel in releases:
            by_stream.setdefault(rel.stream, []).append(rel)
        for stream, rels in by_stream.items():
            s = self.streams[stream]
            # The family's other queues that used the resource first hand it to the releasing one.
            after = tuple(c for rel in rels for c in rel.after)
            if after:
                self._add_waits(s, after)
            if self.waits_only:
                s.open.commands.append(None)   # only that the submit has work
                continue
            ts = [rel.transition for rel in rels]
            s.open.commands.append(BarrierCmd(dependency=entries_dependency(self.rg, ts), reasons=reasons_of(ts)))

    def build(self) -> tuple[Submit, ...]:
        rg, tracked = self.rg, self.tracked
        swapchain_first = {pos: r for r, (pos, stages) in tracked.first_use.items()
                           if rg.resources[r].decl.swapchain}
        for ps in tracked.passes:
            s = self.streams[ps.stream]
            self._emit_releases(ps.releases)
            self._add_waits(s, ps.cross)
            if ps.position in swapchain_first:
                r = swapchain_first[ps.position]
                if s.open.commands:
                    self._close(s)
                s.open.waits.append(Wait(acquire=rg.resources[r].name, stages=Stage(tracked.first_use[r][1])))
            if self.waits_only:
                s.open.commands.append(None)
                self.pos_submit[ps.position] = (s.name, len(s.submits))
                continue
            self._emit_barriers(s, ps.transitions, s.passes_seen == 0, set())
            p = rg.passes[ps.pass_index]
            o = s.open
            index = len(o.commands)
            o.commands.append(PassCmd(pass_name=p.name))
            o.pass_at[ps.position] = index
            o.last_pass_pos = ps.position
            o.last_pass_units = {(a.resource, u) for a in p.accesses for u in a.units}
            for key in o.last_pass_units:
                o.last_touch[key] = index
                o.last_touch_resource[key[0]] = index
            s.passes_seen += 1
            self.pos_submit[ps.position] = (s.name, len(s.submits))
        for fs in tracked.finals:
            s = self.streams[fs.stream]
            self._emit_releases(fs.releases)
            self._add_waits(s, fs.cross)
            if fs.transitions and self.waits_only:
                s.open.commands.append(None)
            elif fs.transitions:
                # The end of the frame is not "between passes": every strategy states final
                # states with exact masks (a naive ALL_COMMANDS barrier would miss e.g. HOST reads).
                strategy = "per_resource" if self.strategy == "per_resource" else "batched"
                for dep, reasons in point_dependencies(rg, strategy, fs.transitions, first_on_stream=False):
                    s.open.commands.append(BarrierCmd(dependency=dep, reasons=reasons))
            for r in range(len(rg.resources)):
                if rg.resources[r].decl.swapchain and tracked.final_stream.get(r) == fs.stream:
                    s.open.present.append(rg.resources[r].name)
        for s in self.streams.values():
            self._close(s)
        return () if self.waits_only else self._submits()

    def result(self) -> Submits:
        submits = self.build()
        return Submits(submits, dict(self.stats), self.tracked.final_stream)

    def _submits(self) -> tuple[Submit, ...]:
        out = []
        for stream, index in self.host_order:
            o = self.streams[stream].submits[index]
            out.append(Submit(queue=stream, waits=tuple(o.waits), signal_value=index + 1,
                              signal_stages=Stage.ALL_COMMANDS, commands=tuple(o.commands),
                              present=tuple(o.present)))
            for c in o.commands:
                if isinstance(c, SetEventCmd):
                    self.stats["events"] += 1
                    self.stats["image_barriers"] += len(c.dependency.images)
                    self.stats["buffer_barriers"] += len(c.dependency.buffers)
                if isinstance(c, BarrierCmd):
                    self.stats["barrier_calls"] += 1
                    self.stats["image_barriers"] += len(c.dependency.images)
                    self.stats["buffer_barriers"] += len(c.dependency.buffers)
                    self.stats["memory_barriers"] += len(c.dependency.memory)
            self.stats["semaphore_waits"] += len(o.waits)
        return tuple(out)
