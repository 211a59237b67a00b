"""The simulation: walks the submits in host order and checks every access against the
synchronization2 execution and memory model (see state.py for how state is kept)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .plan_model import Barrier, Resource, layout_of, strip_reasons
from .problems import Problem, Reporter
from .state import Clocks, IntervalMap, Op, SubState
from .vocab import (unsupported_accesses, ALL_ACCESSES, HOST, NO_WORK, STAGE_BIT, READS, STAGES, UNDEFINED, WRITES, XFER, access_names, bit_indices,
                    dst_scope, pairs, parse_access, parse_stages, short_layout, src_scope, stage_names,
                    write_groups)

FORMAT = "framegraph-plan/1"
DEPTH_ATTACHMENT_LAYOUTS = ("VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL", "VK_IMAGE_LAYOUT_DEPTH_STENCIL_ATTACHMENT_OPTIMAL")
EARLY_TESTS = STAGE_BIT["EARLY_FRAGMENT_TESTS"]
XFER_INDEX = XFER.bit_length() - 1
NEVER_WRITTEN = ("RAW", "reads contents that were never written")


@dataclass(eq=False)
class Use:
    """What one pass (or the end-of-frame state) does to one subresource: its accesses merged."""
    resource: Resource
    where: tuple
    stages: int
    access: int
    layout: str | None
    discard: bool


@dataclass(frozen=True)
class Scope:
    """A barrier's first scope, taken when it executes (or, for an event, when it is set)."""
    exec_vec: np.ndarray
    avail_vec: np.ndarray
    exec: list
    avail: list
    note: str = ""      # for messages: where the scope was taken, if not at the barrier itself


@dataclass(eq=False)
class Release:
    barrier: Barrier
    queue: str
    consumer: str | None
    matched: bool = False


@dataclass(eq=False)
class SetRecord:
    queue: str
    dependency: object
    barriers: list
    scopes: list
    consumer: str | None


@dataclass(eq=False)
class EventState:
    set_by: SetRecord | None = None
    waited: tuple | None = None     # (queue, second-scope stages, consumer) of the wait since the set
    unset_waits: list = field(default_factory=list)     # consumers of waits that found it unset


class Simulator:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.report = Reporter()
        if plan.get("format") != FORMAT:
            self.report.add("format", None, "", f"plan format is {plan.get('format')!r}, expected {FORMAT!r}")
        self.resources = {r["name"]: Resource.from_json(r) for r in plan.get("resources", [])}
        self.passes = {p["name"]: p for p in plan.get("passes", [])}
        self.families = {q: int((v or {}).get("family", 0)) for q, v in (plan.get("queues") or {}).items()}
        self.multi_family = len(set(self.families.values())) > 1
        self.clocks = Clocks(self._queue_names())
        self.seq = 0
        self.submit_index = -1
        self.images: dict[str, dict[tuple[int, int], SubState]] = {}
        self.buffers: dict[str, IntervalMap] = {}
        self.signals: dict[str, list[tuple[int, np.ndarray]]] = {}
        self.events: dict[str, EventState] = {}
        self.releases: dict[tuple, Release] = {}
        self.all_releases: list[Release] = []
        self.heap_segments: dict[object, list[list]] = {}   # heap -> [[lo, hi, occupant]]
        self.sole_occupant: dict[str, bool] = {}
        self.executed: set[str] = set()
        self.last_queue: dict[str, str] = {}
        self.last_submit: dict[str, int] = {}
        self.presented: dict[str, set[int]] = {}

    def _queue_names(self) -> list[str]:
        names = dict.fromkeys(self.families)
        for p in self.plan.get("passes", []):
            names.setdefault(p.get("queue"))
        for s in self.plan.get("submits", []):
            names.setdefault(s.get("queue"))
            for w in _waits(s):
                names.setdefault(w.get("queue") if "acquire" not in w else "@acquire:" + str(w["acquire"]))
        for r in self.resources.values():
            if r.swapchain:
                names.setdefault("@acquire:" + r.name)
        return [n for n in names if n is not None]

    def run(self) -> list[Problem]:
        for i, submit in enumerate(self.plan.get("submits", [])):
            self.submit_index = i
            self._submit(submit)
        self._finish()
        return self.report.problems()

    # ---------------------------------------------------------------- helpers
    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def family(self, queue: str) -> int:
        return self.families.get(queue, 0)

    def _owned(self, res: Resource) -> bool:
        """Does queue family ownership matter for this resource?"""
        return res.exclusive and self.multi_family

    def _stages(self, names, pass_name, resource) -> int:
        mask, unknown = parse_stages(tuple(names or ()))
        for n in unknown:
            self.report.add("format", pass_name, resource, f"unknown pipeline stage {n!r}")
        return mask

    def _access_mask(self, names, pass_name, resource) -> int:
        mask, unknown = parse_access(tuple(names or ()))
        for n in unknown:
            self.report.add("format", pass_name, resource, f"unknown access flag {n!r}")
        return mask

    def _touch(self, res: str, queue: str) -> None:
        self.last_queue[res] = queue
        self.last_submit[res] = self.submit_index

    def _initial_state(self, res: Resource, queue: str) -> SubState:
        """A subresource as the frame finds it: transients undefined, imports in their `initial` state."""
        init = res.initial
        if res.is_image:
            layout = layout_of(init, "layout") if init else None
            layout = layout or UNDEFINED
            st = SubState(layout, NEVER_WRITTEN if layout == UNDEFINED else None)
        else:
            st = SubState(None, None if res.imported else NEVER_WRITTEN)
        if res.swapchain:
            # The presentation engine used it last; only the acquire semaphore orders that use.
            pq = "@acquire:" + res.name
            st.reads[(pq, XFER)] = Op(pq, 1, XFER, "the presentation engine's use (swapchain acquire)",
                                      None, kind="present")
        elif init:
            stages = self._stages(init.get("stages"), None, res.name) & ~NO_WORK
            if stages:
                st.previous = (stages, self._access_mask(init.get("access"), None, res.name))
        return st

    @staticmethod
    def _first_touch(st: SubState, queue: str) -> None:
        """The frame starts using a subresource.  Its previous use (an imported resource's `initial`
        state) is taken to have run on this queue before everything else, as the compiler assumes when
        it orders the first use after it there."""
        st.touched = True
        if st.previous is None:
            return
        stages, access = st.previous
        st.previous = None
        if stages == HOST and access & WRITES:
            # Host writes before the submission: submitting orders them before, and makes them visible
            # to, every command of this submission and later ones (host write ordering guarantee).
            return
        op = Op(queue, 0, stages, "the initial state (its previous use)", None, kind="initial")
        if access & WRITES:
            op.write_groups = write_groups(stages, access)
            st.write = op
        else:
            st.reads[(queue, stages)] = op

    def _buffer(self, res: Resource, queue: str) -> IntervalMap:
        imap = self.buffers.get(res.name)
        if imap is None:
            imap = self.buffers[res.name] = IntervalMap(res.size, self._initial_state(res, queue))
        return imap

    def _presplit(self, res: Resource, rng, queue: str) -> None:
        """Split a buffer's intervals at a range's ends; done for all ranges of a command before any
        state is collected, so that no collected interval is split afterwards."""
        if not res.is_image:
            lo, hi = res.byte_range(rng)
            imap = self._buffer(res, queue)
            imap.split(lo)
            imap.split(hi)

    def _substates(self, res: Resource, queue: str, mips=None, layers=None, rng=None,
                   touch: bool = True) -> list[tuple[SubState, tuple]]:
        """The states of the subresources (or byte intervals) a command names."""
        if res.is_image:
            states = self.images.setdefault(res.name, {})
            out = []
            for m in res.span(mips, res.mips):
                for l in res.span(layers, res.layers):
                    st = states.get((m, l))
                    if st is None:
                        st = states[(m, l)] = self._initial_state(res, queue)
                    out.append((st, ("image", m, l)))
        else:
            self._presplit(res, rng, queue)
            lo, hi = res.byte_range(rng)
            out = [(st, ("buffer", a, b)) for a, b, st in self.buffers[res.name].slice(lo, hi)]
        if touch:
            for st, _ in out:
                if not st.touched:
                    self._first_touch(st, queue)
        return out

    def _states_of(self, name: str):
        """(state, heap-relative [lo, hi) or None for 'all of it') for every state of a resource."""
        if name in self.images:
            for st in self.images[name].values():
                yield st, None
        elif name in self.buffers:
            for a, b, st in self.buffers[name].items():
                yield st, (a, b)

    def _all_states(self):
        for states in self.images.values():
            yield from states.values()
        for imap in self.buffers.values():
            yield from imap.states

    # ---------------------------------------------------------------- submits
    def _submit(self, submit: dict) -> None:
        queue = submit.get("queue")
        commands = submit.get("commands", [])
        # The consumer a barrier serves: its reasons say so; otherwise the next pass in the submit.
        next_pass, upcoming = [None] * len(commands), None
        for i in range(len(commands) - 1, -1, -1):
            next_pass[i] = upcoming
            if commands[i].get("op") == "pass":
                upcoming = commands[i].get("pass")
        first_pass = next((c.get("pass") for c in commands if c.get("op") == "pass"), None)
        for w in _waits(submit):
            self._semaphore_wait(queue, w, first_pass)
        for i, cmd in enumerate(commands):
            op = cmd.get("op")
            consumer_of = _consumers(cmd, next_pass[i])
            if op == "pass":
                self._pass(queue, cmd.get("pass"))
            elif op == "barrier":
                seq = self._next_seq()
                barriers = self._parse_dependency(cmd.get("dependency") or {}, consumer_of)
                self._apply(queue, barriers, [self._first_scope(queue, b, seq) for b in barriers], seq, consumer_of)
            elif op == "set_event":
                self._set_event(queue, cmd, consumer_of, next_pass[i])
            elif op == "wait_events":
                self._wait_events(queue, cmd, consumer_of, next_pass[i])
            elif op == "reset_event":
                self._reset_event(queue, cmd, next_pass[i])
            else:
                self.report.add("format", next_pass[i], "", f"unknown command op {op!r} on '{queue}'")
        if submit.get("signal"):
            self._signal(queue, submit["signal"], first_pass)
        for name in submit.get("present") or ():
            self.presented.setdefault(name, set()).add(self.submit_index)

    def _semaphore_wait(self, queue: str, wait: dict, first_pass) -> None:
        """A wait orders everything its signal covered before the waiting submit's commands at the wait
        stages (and logically later ones), and makes that memory available and visible to them."""
        self._next_seq()
        stages = dst_scope(self._stages(wait.get("stages"), first_pass, ""))
        if "acquire" in wait:
            pq = "@acquire:" + str(wait["acquire"])
            vec = self.clocks.empty()
            vec[self.clocks.base[pq] + XFER_INDEX] = 1      # the presentation engine's use, seq 1
            self.clocks.merge("exec", queue, stages, vec)
            return
        src_queue, value = wait.get("queue"), wait.get("value")
        signalled = self.signals.get(src_queue, [])
        covered = next((vec for v, vec in signalled if value is not None and v >= value), None)
        if covered is None:
            self.report.add("semaphore", first_pass, f"(semaphore of '{src_queue}')",
                            f"submit on '{queue}' waits for '{src_queue}' value {value}, which no earlier submit "
                            f"signals: the host order would deadlock")
            return
        for table in ("exec", "avail", "vis"):
            self.clocks.merge(table, queue, stages, covered)

    def _signal(self, queue: str, signal: dict, first_pass) -> None:
        value = signal.get("value")
        done = self.signals.setdefault(queue, [])
        if done and (value is None or value <= done[-1][0]):
            self.report.add("semaphore", first_pass, f"(semaphore of '{queue}')",
                            f"signal value {value} on '{queue}' does not increase (previous {done[-1][0]})")
        seq = self._next_seq()
        scope = src_scope(self._stages(signal.get("stages"), first_pass, ""))
        vec = self.clocks.stamp(self.clocks.join("exec", queue, scope), queue, scope, seq)
        if done:    # waiting for a value waits for every smaller one too
            vec = np.maximum(vec, done[-1][1])
        done.append((value if value is not None else 0, vec))

    # ---------------------------------------------------------------- passes
    def _pass(self, queue: str, name) -> None:
        p = self.passes.get(name)
        if p is None:
            self.report.add("format", name, "", f"submit on '{queue}' records unknown pass {name!r}")
            return
        if name in self.executed:
            self.report.add("format", name, "", "pass is recorded more than once")
        self.executed.add(name)
        # A pass names its logical queue; on a device with fewer queues it runs on another stream.
        if p.get("queue", queue) != queue and p.get("queue") in self.families:
            self.report.add("format", name, "", f"pass of queue '{p.get('queue')}' recorded on '{queue}'")
        seq = self._next_seq()
        targets = self._pass_targets(p, queue)
        per_resource: dict[str, list[Use]] = {}
        for use in targets.values():
            per_resource.setdefault(use.resource.name, []).append(use)
        for res_name, uses in per_resource.items():
            self._touch(res_name, queue)
            res = uses[0].resource
            stages = 0
            for u in uses:
                stages |= u.stages
            # A buffer takes over memory at its first write: a discarding write, or any first use of
            # a transient (its contents before its first write are undefined wherever it sits).
            fresh = not res.is_image and (all(u.discard and u.access & WRITES for u in uses)
                                          or (not res.imported and res.name not in self.sole_occupant))
            self._claim_memory(res, name, fresh, lambda op, s=stages: self.clocks.ordered(op, queue, s),
                               lambda w, s=stages: self._available_at(w, queue, s))
        for st, use in targets.items():
            self._access(st, use, queue, seq, name)

    def _pass_targets(self, p: dict, queue: str) -> dict[SubState, Use]:
        """Each subresource the pass touches, with all its accesses of it merged into one Use."""
        name, entries = p["name"], []
        for e in p.get("accesses", []):
            res = self.resources.get(e.get("resource"))
            if res is None:
                self.report.add("format", name, str(e.get("resource")), "access to a resource the plan does not list")
                continue
            stages = self._stages(e.get("stages"), name, res.name) & ~NO_WORK
            access = self._access_mask(e.get("access"), name, res.name)
            if res.is_image and not e.get("layout"):
                self.report.add("format", name, res.name, "image access without a layout")
            self._presplit(res, e.get("range"), queue)
            entries.append((res, e, stages, access))
        targets: dict[SubState, Use] = {}
        for res, e, stages, access in entries:
            layout = layout_of(e, "layout") if res.is_image else None
            for st, where in self._substates(res, queue, e.get("mips"), e.get("layers"), e.get("range")):
                use = targets.get(st)
                if use is None:
                    targets[st] = Use(res, where, stages, access, layout, bool(e.get("discard")))
                    continue
                if use.layout != layout:
                    self.report.add("layout", name, res.name, f"accesses the same subresource in two layouts, "
                                    f"{short_layout(use.layout)} and {short_layout(layout)}", where=where)
                use.stages |= stages
                use.access |= access
                use.discard = use.discard and bool(e.get("discard"))
        return targets

    def _access(self, st: SubState, use: Use, queue: str, seq: int, pass_name: str | None,
                final: bool = False) -> None:
        """Check one pass's use of one subresource (or the end-of-frame state), then record it."""
        res, where = use.resource, use.where
        kind = (lambda k: "final") if final else (lambda k: k)
        what = "the end-of-frame state" if final else "it"
        if res.is_image and use.layout and st.layout != use.layout:
            self.report.add(kind("layout"), pass_name, res.name,
                            f"{what} expects layout {short_layout(use.layout)} but the image is in "
                            f"{short_layout(st.layout)}", where=where)
        if not final:
            self._check_owner_use(st, use, queue, pass_name)
        if not use.stages:
            return
        reads, writes = use.access & READS, use.access & WRITES
        prior = st.write
        # A discarding depth attachment write starts with its load op (CLEAR/DONT_CARE) at
        # EARLY_FRAGMENT_TESTS, which writes every sample before any other access of the attachment
        # in the render pass instance: that write is what the earlier accesses must precede.
        check = use.stages
        if use.discard and use.layout in DEPTH_ATTACHMENT_LAYOUTS and use.stages & EARLY_TESTS:
            check = EARLY_TESTS
        raw_ok = True
        if reads and not use.discard:
            # Only a pure read "reads" undefined contents: formats.md counts any access with a write bit
            # as a write (a depth test or blend on undefined contents is not a sync hazard).
            if st.undefined and not writes and not final:
                self.report.add(kind(st.undefined[0]), pass_name, res.name, f"{what} {st.undefined[1]}", where=where)
            if prior is not None:
                gap = self._gap(prior, queue, use.stages, reads)
                if gap:
                    raw_ok = False
                    self.report.add(kind("RAW"), pass_name, res.name, f"read {gap}", prior.producer, where)
        if writes:
            if st.reads:
                for r in st.reads.values():
                    if not self.clocks.ordered(r, queue, check):
                        k = "semaphore" if r.kind == "present" else "WAR"
                        self.report.add(kind(k), pass_name, res.name,
                                        f"write is not ordered after the read by {r.label} ({_at(r)}): no execution "
                                        f"dependency chain from it to {stage_names(use.stages)} on '{queue}'",
                                        r.producer, where)
            elif prior is not None and raw_ok:
                gap = self._gap(prior, queue, check, writes)
                if gap:
                    self.report.add(kind("WAW"), pass_name, res.name, f"write {gap}", prior.producer, where)
        if final:
            return
        label = f"pass '{pass_name}'"
        if writes:
            st.write = Op(queue, seq, use.stages, label, pass_name, write_groups=write_groups(use.stages, writes))
            st.reads = {}
            st.undefined = None
        else:
            st.reads[(queue, use.stages)] = Op(queue, seq, use.stages, label, pass_name)

    def _gap(self, w: Op, queue: str, stages: int, access: int) -> str | None:
        """Why write `w` is not ordered before and visible to `access` at `stages` on `queue`; None if it is."""
        if not self.clocks.ordered(w, queue, stages):
            return (f"is not ordered after {w.label} ({_at(w)}): no execution dependency chain from it to "
                    f"{stage_names(stages)} on '{queue}'")
        vis = w.vis.get(queue, 0)
        for s in bit_indices(stages):
            if pairs(1 << s, access) & ~vis and not self.clocks.visible_everywhere(w, queue, s):
                if w.avail or self.clocks.covers(self.clocks.row("avail", queue, s), w):
                    return (f"does not see {w.label}: it is not made visible to {STAGES[s]} "
                            f"{access_names(access)} (not in a barrier's destination access scope)")
                return (f"does not see {w.label}: its write is never made available (not in any barrier's "
                        f"source access scope)")
        return None

    def _check_owner_use(self, st: SubState, use: Use, queue: str, pass_name) -> None:
        res = use.resource
        if not self._owned(res):
            return
        fam = self.family(queue)
        if st.transit is not None:
            rel = st.transit
            self.report.add("ownership", pass_name, res.name,
                            f"used on '{queue}' (family {fam}) while released by '{rel.queue}' to family "
                            f"{rel.barrier.dst_family} and not acquired: missing acquire barrier", where=use.where)
        elif st.owner is not None and st.owner != fam and not use.discard and st.undefined is None:
            by = st.write.label if st.write else "its last use"
            self.report.add("ownership", pass_name, res.name,
                            f"contents owned by queue family {st.owner} (written by {by}) are used on '{queue}' "
                            f"(family {fam}) without a queue family ownership transfer (release + acquire)",
                            st.write.producer if st.write else None, use.where)
        st.owner, st.transit = fam, None

    # ---------------------------------------------------------------- barriers
    def _parse_dependency(self, dep: dict, consumer_of) -> list[Barrier]:
        out = []
        for m in dep.get("memory") or ():
            out.append(Barrier("memory", None, *self._masks(m, consumer_of(None), "")))
        for b in dep.get("buffers") or ():
            res = self._barrier_resource(b, "buffer", consumer_of)
            if res:
                out.append(Barrier("buffer", res, *self._masks(b, consumer_of(res), res), range=b.get("range"),
                                   src_family=b.get("src_queue"), dst_family=b.get("dst_queue")))
        for i in dep.get("images") or ():
            res = self._barrier_resource(i, "image", consumer_of)
            if res:
                out.append(Barrier("image", res, *self._masks(i, consumer_of(res), res),
                                   old=layout_of(i, "old_layout") or UNDEFINED,
                                   new=layout_of(i, "new_layout") or UNDEFINED,
                                   mips=i.get("mips"), layers=i.get("layers"),
                                   src_family=i.get("src_queue"), dst_family=i.get("dst_queue")))
        return out

    def _masks(self, b: dict, pass_name, res) -> tuple[int, int, int, int]:
        src, dst = self._stages(b.get("src_stages"), pass_name, res), self._stages(b.get("dst_stages"), pass_name, res)
        for side, stages in (("src", src), ("dst", dst)):
            bad = unsupported_accesses(tuple(b.get(f"{side}_access") or ()), stages)
            if bad:
                self.report.add("format", pass_name, res, f"{side}_access {'|'.join(bad)} is not performed by any "
                                f"stage in {side}_stages {stage_names(stages)} (invalid barrier)")
        return (src, dst, self._access_mask(b.get("src_access"), pass_name, res),
                self._access_mask(b.get("dst_access"), pass_name, res))

    def _barrier_resource(self, b: dict, kind: str, consumer_of) -> str | None:
        name = b.get("resource")
        res = self.resources.get(name)
        if res is None or res.kind != kind:
            self.report.add("format", consumer_of(name), str(name), f"{kind} barrier on a resource that is not a "
                            f"listed {kind}")
            return None
        return name

    def _first_scope(self, queue: str, b: Barrier, seq: int, note: str = "") -> Scope:
        exec_vec = self.clocks.stamp(self.clocks.join("exec", queue, b.src_exec), queue, b.src_exec, seq)
        avail_vec = self.clocks.join("avail", queue, b.src_exec)
        if b.kind == "memory" and b.src_access & WRITES == WRITES:
            # Every write this queue did at the named stages is in the first access scope.
            self.clocks.stamp(avail_vec, queue, b.src & ~NO_WORK, seq)
        return Scope(exec_vec, avail_vec, exec_vec.tolist(), avail_vec.tolist(), note)

    def _apply(self, queue: str, barriers: list[Barrier], scopes: list[Scope], seq: int, consumer_of) -> None:
        """Execute one dependency (a vkCmdPipelineBarrier2, or the wait of an event set earlier with
        `scopes`).  All its barriers act at once on the state as it was before it."""
        for b in barriers:
            if b.kind == "buffer":
                self._presplit(self.resources[b.resource], b.range, queue)
        made_visible: list[tuple[Op, int, bool]] = []
        replaced: list[tuple[SubState, dict]] = []
        for b, sc in zip(barriers, scopes):
            if b.kind == "memory":
                if _needs_walk(b):
                    for st in self._all_states():
                        made_visible += self._memory_effect(st.write, b, sc, queue)
                continue
            res = self.resources[b.resource]
            consumer = consumer_of(res.name)
            self._touch(res.name, queue)
            role = self._transfer_role(b, queue, consumer)
            release = self._register_release(b, queue, consumer) if role == "release" else None
            if role == "acquire":
                release = self._match_release(b, queue, consumer)
            if b.transition and role is None:
                self._claim_memory(res, consumer, b.from_undefined, lambda op, v=sc.exec: self.clocks.covers(v, op),
                                   lambda w, sc=sc: self._available_in(w, sc, barriers, scopes, queue))
            for st, where in self._substates(res, queue, b.mips, b.layers, b.range):
                if role == "release":
                    replaced.append((st, self._release(st, b, sc, queue, seq, consumer, where, release)))
                elif role == "acquire":
                    replaced.append((st, self._acquire(st, b, queue, seq, consumer, where, release)))
                elif b.transition:
                    replaced.append((st, self._transition(st, b, sc, queue, seq, consumer, where)))
                else:
                    self._check_old_layout(st, b, consumer, where)
                    made_visible += self._memory_effect(st.write, b, sc, queue)
        for op, vis, directly in made_visible:
            op.avail = op.avail or directly
            op.vis[queue] = op.vis.get(queue, 0) | vis
        for st, changes in replaced:
            for k, v in changes.items():
                setattr(st, k, v)
        for b, sc in zip(barriers, scopes):
            # Execution dependencies are global, whatever resource a barrier names.
            self.clocks.merge("exec", queue, b.dst_exec, sc.exec_vec)
            self.clocks.merge("avail", queue, b.dst_exec, sc.avail_vec)
            if b.kind == "memory" and b.dst_access & ALL_ACCESSES == ALL_ACCESSES:
                self.clocks.merge("vis", queue, b.dst & ~NO_WORK, sc.avail_vec)

    def _memory_effect(self, w: Op | None, b: Barrier, sc: Scope, queue: str) -> list:
        """[(w, pairs it becomes visible to, made available directly)] if barrier `b` reaches write `w`."""
        if w is None or not self.clocks.covers(sc.exec, w):
            return []
        directly = self._directly_available(w, b, queue)
        if w.avail or directly or self.clocks.covers(sc.avail, w):
            return [(w, b.dst_pairs, directly)]
        return []

    @staticmethod
    def _directly_available(w: Op, b: Barrier, queue: str) -> bool:
        """Is the write in b's first access scope: same queue, every write type at a named stage?"""
        return (w.queue == queue and bool(w.write_groups)
                and all(g & b.src_pairs for g in w.write_groups))

    def _check_old_layout(self, st: SubState, b: Barrier, consumer, where) -> None:
        if b.kind == "image" and b.old != UNDEFINED and b.old != st.layout:
            self.report.add("layout", consumer, b.resource,
                            f"barrier's old_layout is {short_layout(b.old)} but the image is in "
                            f"{short_layout(st.layout)}", where=where)

    def _check_barrier_op(self, st: SubState, b: Barrier, sc: Scope, queue: str, consumer, where,
                          reads_contents: bool, what: str, writes: bool = True) -> None:
        """A layout transition reads and writes the memory between the barrier's scopes: it must come
        after the prior reads, and after the prior write made available.  An ownership release without
        a layout change writes nothing, but must still make the prior write available."""
        res = b.resource
        if st.reads:
            for r in (st.reads.values() if writes else ()):
                if not self.clocks.covers(sc.exec, r):
                    kind = "semaphore" if r.kind == "present" else "WAR"
                    self.report.add(kind, consumer, res, f"{what} is not ordered after the read by {r.label} "
                                    f"({_at(r)}): no dependency chain from it reaches src_stages "
                                    f"{stage_names(b.src)}{sc.note} on '{queue}'", r.producer, where)
            return
        w = st.write
        if w is None:
            return
        kind = "RAW" if reads_contents else "WAW"
        if not self.clocks.covers(sc.exec, w):
            self.report.add(kind, consumer, res, f"{what} is not ordered after {w.label} ({_at(w)}): no "
                            f"dependency chain from it reaches src_stages {stage_names(b.src)}{sc.note} on "
                            f"'{queue}'", w.producer, where)
        elif not (w.avail or self._directly_available(w, b, queue) or self.clocks.covers(sc.avail, w)):
            self.report.add(kind, consumer, res, f"{what} does not make the write by {w.label} available: "
                            f"src_access {access_names(b.src_access)} at {stage_names(b.src)} does not include it",
                            w.producer, where)

    def _transition(self, st: SubState, b: Barrier, sc: Scope, queue, seq, consumer, where) -> dict:
        self._check_old_layout(st, b, consumer, where)
        what = f"the layout transition {short_layout(b.old)}->{short_layout(b.new)}"
        self._check_barrier_op(st, b, sc, queue, consumer, where, not b.from_undefined, what)
        res = self.resources[b.resource]
        undefined = st.undefined
        if b.from_undefined and undefined is None:
            undefined = ("layout", f"reads contents discarded by the layout transition from UNDEFINED in the "
                         f"barrier before '{consumer}'")
        owner = st.owner
        if self._owned(res):
            fam = self.family(queue)
            if owner is not None and owner != fam and not b.from_undefined and st.undefined is None:
                self.report.add("ownership", consumer, res.name, f"{what} on '{queue}' (family {fam}) keeps contents "
                                f"owned by queue family {owner} without an ownership transfer", where=where)
            owner = fam
        producer = None if b.from_undefined or st.write is None else st.write.producer
        op = Op(queue, seq, b.dst_exec | XFER, f"{what} in the barrier before '{consumer}'", producer,
                in_barrier=True, avail=True, vis={queue: b.dst_pairs}, kind="transition")
        return dict(layout=b.new, undefined=undefined, write=op, reads={}, owner=owner, transit=None)

    # ---------------------------------------------------------------- queue family ownership
    def _transfer_role(self, b: Barrier, queue: str, consumer) -> str | None:
        if not b.transfers_ownership:
            return None
        fam = self.family(queue)
        if fam == b.src_family:
            return "release"
        if fam == b.dst_family:
            return "acquire"
        self.report.add("ownership", consumer, b.resource, f"barrier transfers ownership from family {b.src_family} "
                        f"to {b.dst_family} but runs on '{queue}' (family {fam})")
        return None

    def _register_release(self, b: Barrier, queue: str, consumer) -> Release:
        rel = Release(b, queue, consumer)
        self.releases[b.extent_key] = rel
        self.all_releases.append(rel)
        return rel

    def _match_release(self, b: Barrier, queue: str, consumer) -> Release | None:
        rel = self.releases.pop(b.extent_key, None)
        if rel is None:
            self.report.add("ownership", consumer, b.resource, f"acquire on '{queue}' from family {b.src_family} has "
                            f"no matching release (same range, families and layouts) before it")
            return None
        rel.matched = True
        if (rel.barrier.old, rel.barrier.new) != (b.old, b.new):
            self.report.add("ownership", consumer, b.resource, f"acquire's layouts {short_layout(b.old)}->"
                            f"{short_layout(b.new)} differ from the release's {short_layout(rel.barrier.old)}->"
                            f"{short_layout(rel.barrier.new)}")
        return rel

    def _release(self, st: SubState, b: Barrier, sc: Scope, queue, seq, consumer, where, rel: Release) -> dict:
        if b.transition:
            self._check_old_layout(st, b, consumer, where)
        self._check_barrier_op(st, b, sc, queue, consumer, where, True,
                               f"the release to queue family {b.dst_family}", writes=b.transition)
        res = self.resources[b.resource]
        if self._owned(res) and st.owner not in (None, b.src_family) and st.undefined is None:
            self.report.add("ownership", consumer, res.name, f"released from family {b.src_family} but owned by "
                            f"family {st.owner}", where=where)
        op = Op(queue, seq, b.dst_exec | XFER, f"the release to queue family {b.dst_family} on '{queue}'",
                st.write.producer if st.write else None, in_barrier=True, avail=True, kind="release")
        return dict(write=op, reads={}, transit=rel)

    def _acquire(self, st: SubState, b: Barrier, queue, seq, consumer, where, rel: Release | None) -> dict:
        released = st.write if st.write is not None and st.write.kind == "release" else None
        if rel is not None and released is not None and not self.clocks.ordered(released, queue, XFER):
            self.report.add("ownership", consumer, b.resource,
                            f"{released.label} is not ordered before the acquire on '{queue}': the semaphore "
                            f"between them must be signalled and waited with ALL_COMMANDS", released.producer, where)
        changes: dict = dict(reads={}, owner=self.family(queue), transit=None)
        if b.transition:
            changes["layout"] = b.new
            if b.from_undefined:
                changes["undefined"] = st.undefined or ("layout", "reads contents discarded by the acquire's "
                                                        "transition from UNDEFINED")
        producer = st.write.producer if st.write else None
        changes["write"] = Op(queue, seq, b.dst_exec | XFER, f"the acquire from queue family {b.src_family} "
                              f"in the barrier before '{consumer}'", producer, in_barrier=True, avail=True,
                              vis={queue: b.dst_pairs}, kind="acquire")
        return changes

    # ---------------------------------------------------------------- aliasing
    def _available_in(self, w: Op, sc: Scope, barriers, scopes, queue: str) -> bool:
        """Is write `w` available when a transition with first scope `sc` writes memory: already, through
        the avail clock at the transition's source stages, or through a global memory barrier of the same
        dependency (an image or buffer barrier reaches only writes made through its own resource)."""
        if w.avail or self.clocks.covers(sc.avail, w):
            return True
        return any(b.kind == "memory" and self._memory_effect(w, b, msc, queue) for b, msc in zip(barriers, scopes))

    def _available_at(self, w: Op, queue: str, stages: int) -> bool:
        """Is write `w` available to a pass at `stages` on `queue` (made so by a barrier that reached it, a
        global memory barrier or a semaphore)?"""
        return w.avail or all(self.clocks.covers(self.clocks.row("avail", queue, s), w) for s in bit_indices(stages))

    def _claim_memory(self, res: Resource, consumer, starts_undefined: bool, is_ordered, is_available) -> None:
        """`res` starts using its placed memory.  Whatever else used overlapping memory before must be
        finished (ordered before this use), its last writes made available (else they could land after
        this use writes the memory: write-after-write on aliased memory), and this use must not expect
        old contents."""
        if res.heap is None or self.sole_occupant.get(res.name):
            return
        lo, hi = res.offset, res.offset + res.size
        segments = self.heap_segments.setdefault(res.heap, [])
        previous = sorted({occ for a, b, occ in segments if a < hi and lo < b and occ != res.name})
        for other in previous:
            if not starts_undefined:
                first = "a barrier from UNDEFINED" if res.is_image else "a discard write"
                self.report.add("alias", consumer, res.name, f"takes over memory of '{other}' (heap {res.heap}) but "
                                f"its first use is not {first}")
            base = self.resources[other].offset
            for st, span in list(self._states_of(other)):
                if span is not None and not (base + span[0] < hi and lo < base + span[1]):
                    continue
                # Reads since the last write were each ordered after it, so they stand for it.
                for op in list(st.reads.values()) or ([st.write] if st.write else []):
                    if op.kind != "present" and not is_ordered(op):
                        self.report.add("alias", consumer, res.name, f"is not ordered after {op.label} on "
                                        f"'{other}', which shares its memory (heap {res.heap})", op.producer)
                w = st.write
                if w is not None and w.kind == "pass" and is_ordered(w) and not is_available(w):
                    self.report.add("alias", consumer, res.name, f"takes over memory of '{other}' (heap {res.heap}) "
                                    f"but the write by {w.label} through '{other}' is never made available: an image "
                                    f"or buffer barrier's access scopes cover only its own resource, so a global "
                                    f"memory barrier (or a barrier on '{other}') must carry it", w.producer)
                st.undefined = ("alias", f"reads contents overwritten by aliased resource '{res.name}'")
            self.sole_occupant[other] = False
        kept = [[a, b, o] for a, b, o in segments if b <= lo or a >= hi]
        kept += [[a, lo, o] for a, b, o in segments if a < lo < b]
        kept += [[hi, b, o] for a, b, o in segments if a < hi < b]
        self.heap_segments[res.heap] = sorted(kept + [[lo, hi, res.name]])
        self.sole_occupant[res.name] = True

    # ---------------------------------------------------------------- events
    def _set_event(self, queue: str, cmd: dict, consumer_of, next_pass) -> None:
        name = str(cmd.get("event"))
        ev = self.events.setdefault(name, EventState())
        dep = cmd.get("dependency") or {}
        label = _dep_resource(dep) or f"event {name}"
        consumer = consumer_of(_dep_resource(dep)) if _dep_resource(dep) else next_pass
        if ev.unset_waits:
            self.report.add("event", consumer, label, f"set_event '{name}' comes after the wait_events before "
                            f"'{ev.unset_waits[0]}' that waits for it (program order)")
            ev.unset_waits.clear()
        if ev.set_by is not None:
            self.report.add("event", consumer, label, f"set_event '{name}' while it is still set (set before "
                            f"'{ev.set_by.consumer}'): it needs a reset_event ordered after its wait first")
        seq = self._next_seq()
        barriers = self._parse_dependency(dep, consumer_of)
        note = f" (the first scope ends at set_event '{name}')"
        scopes = [self._first_scope(queue, b, seq, note) for b in barriers]
        ev.set_by = SetRecord(queue, strip_reasons(dep), barriers, scopes, consumer)
        ev.waited = None

    def _wait_events(self, queue: str, cmd: dict, consumer_of, next_pass) -> None:
        seq = self._next_seq()
        deps = cmd.get("dependencies") or []
        for i, name in enumerate(cmd.get("events") or ()):
            name = str(name)
            ev = self.events.setdefault(name, EventState())
            dep = deps[i] if i < len(deps) else None
            label = _dep_resource(dep or {}) or f"event {name}"
            consumer = consumer_of(_dep_resource(dep or {})) if _dep_resource(dep or {}) else next_pass
            s = ev.set_by
            if s is None:
                self.report.add("event", consumer, label, f"wait_events on '{name}', which is not set (never set, "
                                f"or reset since)")
                ev.unset_waits.append(consumer)
                continue
            if s.queue != queue:
                self.report.add("event", consumer, label, f"event '{name}' set on '{s.queue}' is waited on '{queue}'")
                continue
            if dep is None or strip_reasons(dep) != s.dependency:
                self.report.add("event", consumer, label, f"wait_events dependency for '{name}' differs from the "
                                f"one its set_event gave")
            self._apply(queue, s.barriers, s.scopes, seq, consumer_of)
            second = 0
            for b in s.barriers:
                second |= b.dst_exec
            ev.waited = (queue, second, consumer)

    def _reset_event(self, queue: str, cmd: dict, next_pass) -> None:
        self._next_seq()
        name = str(cmd.get("event"))
        ev = self.events.setdefault(name, EventState())
        stages = src_scope(self._stages(cmd.get("stages"), next_pass, f"event {name}"))
        if ev.waited is not None:
            wq, second, consumer = ev.waited
            if wq != queue or not stages & second:
                self.report.add("event", consumer, f"event {name}", f"reset_event '{name}' on '{queue}' at "
                                f"{stage_names(stages)} is not ordered after the wait_events before '{consumer}'")
        ev.set_by, ev.waited = None, None

    # ---------------------------------------------------------------- end of frame
    def _finish(self) -> None:
        for rel in self.all_releases:
            if not rel.matched:
                self.report.add("ownership", rel.consumer, rel.barrier.resource,
                                f"release on '{rel.queue}' to family {rel.barrier.dst_family} has no matching acquire")
        for name in self.passes:
            if name not in self.executed:
                self.report.add("format", name, "", "pass is listed but never recorded in a submit")
        for res in self.resources.values():
            if res.final:
                self._check_final(res)

    def _check_final(self, res: Resource) -> None:
        """The final state is a virtual access at the end of the queue the plan names (`final_queue`),
        else of the queue that last used the resource. When the last uses are on queues that nothing
        orders, "last" is ambiguous, so the plan says where it establishes the state."""
        fin = res.final
        queue = (res.final_queue if res.final_queue in self.clocks.base else None) \
            or self.last_queue.get(res.name) or next(iter(self.clocks.base))
        stages = self._stages(fin.get("stages"), None, res.name) & ~NO_WORK
        access = self._access_mask(fin.get("access"), None, res.name)
        layout = layout_of(fin, "layout") if res.is_image else None
        seq = self._next_seq()
        for st, where in self._substates(res, queue, touch=False):
            # What the frame never touched keeps its initial state; only its layout can be wrong.
            use_stages = stages if st.touched else 0
            self._access(st, Use(res, where, use_stages, access, layout, False), queue, seq, None, final=True)
        if res.swapchain and res.name in self.last_submit:
            last = self.last_submit[res.name]
            if last not in self.presented.get(res.name, ()):
                self.report.add("final", None, res.name, f"swapchain image is not presented by submit #{last}, "
                                f"the last one that uses it")


def _at(op: Op) -> str:
    """Where an operation ran, for messages."""
    if op.in_barrier:
        # Only what chains from the barrier's second scope comes after it.
        return f"in a barrier on '{op.queue}' with second scope {stage_names(op.stages & ~XFER)}"
    if op.kind == "present":
        return "before the frame"
    return f"at {stage_names(op.stages)} on '{op.queue}'"


def _waits(submit: dict) -> list:
    return submit.get("wait", submit.get("waits")) or []


def _consumers(cmd: dict, next_pass):
    """resource -> the pass a barrier-like command serves (its reasons first, else the next pass)."""
    named = {}
    for r in cmd.get("reasons") or ():
        named.setdefault(r.get("resource"), r.get("consumer"))
    return lambda res: named[res] if res in named else next_pass


def _dep_resource(dep: dict) -> str | None:
    for b in (dep.get("images") or []) + (dep.get("buffers") or []):
        if b.get("resource"):
            return b["resource"]
    return None


def _needs_walk(b: Barrier) -> bool:
    """A global memory barrier whose access masks are neither empty nor everything acts per write;
    the others are fully described by the clocks."""
    return (b.src_access & WRITES not in (0, WRITES)
            or b.dst_access & ALL_ACCESSES not in (0, ALL_ACCESSES))
