"""The simulation's state: memory operations, per-subresource state, and per-queue vector clocks.

Execution order is kept in vector clocks (Clocks) because an execution dependency is global: a
barrier on one buffer also orders unrelated work at the same stages, so it cannot be applied per
resource without touching every resource.  Memory (availability and visibility) is per write, as the
spec says for buffer and image barriers; global memory barriers and semaphores, which reach all
memory, are kept in two more clocks so that they too cost O(stages) and not O(resources).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace

import numpy as np

from .vocab import N_STAGES, bit_indices


@dataclass(eq=False, slots=True)
class Op:
    """One memory operation: a pass's access, or work a barrier does itself.

    A pass's op ran *in* `stages`; it is ordered before a later operation when every one of its stages
    is in that operation's chain.  A barrier's own op (`in_barrier`: layout transition, ownership
    release or acquire) ran between the barrier's two scopes; `stages` is then its second scope (plus
    XFER), and it is ordered before whatever any of those stages is ordered before.
    """
    queue: str
    seq: int
    stages: int
    label: str                      # for messages: "pass 'gbuffer'", "layout transition ... before 'x'"
    producer: str | None            # the pass whose data this is (for messages)
    in_barrier: bool = False
    write_groups: tuple[int, ...] = ()   # writes: per write type, its (stage, access) pairs
    avail: bool = False             # writes: made available by a barrier's source access scope
    vis: dict = field(default_factory=dict)  # writes: queue -> pair mask it is visible to
    kind: str = "pass"              # "pass", "initial", "present", "transition", "release", "acquire"

    def copy(self) -> "Op":
        return replace(self, vis=dict(self.vis))


@dataclass(eq=False, slots=True)
class SubState:
    """State of one image subresource or one byte interval of a buffer."""
    layout: str | None                  # images only
    undefined: tuple[str, str] | None   # (problem kind, why) when the contents are undefined
    write: Op | None = None             # last write (a layout transition counts as one)
    reads: dict = field(default_factory=dict)   # reads since that write: (queue, stages) -> latest Op
    owner: int | None = None            # queue family owning it (exclusive sharing)
    transit: object | None = None       # pending ownership release, until the acquire
    touched: bool = False               # used by this frame (a pass or a barrier named it)
    previous: tuple | None = None       # imported: (stages, access) of the use before the frame,
                                        # placed on the queue that first touches this subresource

    def copy(self) -> "SubState":
        return replace(self, write=self.write.copy() if self.write else None, reads=dict(self.reads))


class IntervalMap:
    """A buffer's byte intervals, each with its own SubState, split on demand at access boundaries."""

    def __init__(self, size: int, state: SubState) -> None:
        self.bounds = [0, size]
        self.states = [state]

    def split(self, x: int) -> None:
        if not 0 < x < self.bounds[-1]:
            return
        i = bisect_right(self.bounds, x) - 1
        if self.bounds[i] != x:
            self.bounds.insert(i + 1, x)
            self.states.insert(i + 1, self.states[i].copy())

    def slice(self, lo: int, hi: int) -> list[tuple[int, int, SubState]]:
        """The intervals within [lo, hi); call split(lo), split(hi) first."""
        i, j = bisect_left(self.bounds, lo), bisect_left(self.bounds, hi)
        return [(self.bounds[k], self.bounds[k + 1], self.states[k]) for k in range(i, min(j, len(self.states)))]

    def items(self):
        return zip(self.bounds, self.bounds[1:], self.states)


class Clocks:
    """Three vector clocks per queue, each a (stage x column) table; a column is (queue, stage).

    exec[q][s, (p, t)] = n: every operation at stage t on queue p with sequence number <= n happens
      before any later operation at stage s on q (dependency chains included).
    avail: the same, restricted to writes that are also available (made so by a semaphore signal or a
      global memory barrier covering every write type; a chain carries availability on).
    vis: the same, restricted to writes also visible to every access type at stage s on q
      (semaphore waits, global memory barriers whose destination access is everything).
    """

    def __init__(self, queues) -> None:
        self.base = {q: i * N_STAGES for i, q in enumerate(queues)}
        width = len(self.base) * N_STAGES
        self.tables = {name: {q: np.full((N_STAGES, width), -1, dtype=np.int64) for q in self.base}
                       for name in ("exec", "avail", "vis")}
        self._rows: dict[tuple[str, str, int], list] = {}
        self.width = width

    def empty(self) -> np.ndarray:
        return np.full(self.width, -1, dtype=np.int64)

    def join(self, name: str, queue: str, stages: int) -> np.ndarray:
        """What is ordered before any of `stages` on `queue` (elementwise max of their rows)."""
        rows = bit_indices(stages)
        if not rows:
            return self.empty()
        return self.tables[name][queue][list(rows)].max(axis=0)

    def stamp(self, vec: np.ndarray, queue: str, stages: int, seq: int) -> np.ndarray:
        """Add `queue`'s own operations at `stages` up to `seq` (a barrier's direct first scope)."""
        base = self.base[queue]
        for i in bit_indices(stages):
            vec[base + i] = max(vec[base + i], seq)
        return vec

    def merge(self, name: str, queue: str, stages: int, vec: np.ndarray) -> None:
        """Everything in `vec` is now ordered before `stages` on `queue` (a second scope)."""
        rows = list(bit_indices(stages))
        if not rows:
            return
        table = self.tables[name][queue]
        table[rows] = np.maximum(table[rows], vec)
        for i in rows:
            self._rows.pop((name, queue, i), None)

    def row(self, name: str, queue: str, stage_index: int) -> list:
        key = (name, queue, stage_index)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = self.tables[name][queue][stage_index].tolist()
        return row

    def covers(self, vec, op: Op) -> bool:
        """Is `op` inside the scope described by clock vector `vec`?"""
        base = self.base[op.queue]
        if op.in_barrier:
            return any(vec[base + i] > op.seq for i in bit_indices(op.stages))
        return all(vec[base + i] >= op.seq for i in bit_indices(op.stages))

    def ordered(self, op: Op, queue: str, stages: int) -> bool:
        """Is `op` execution-ordered before a new operation on `queue` at all of `stages`?"""
        for s in bit_indices(stages):
            if op.in_barrier and op.queue == queue and op.stages >> s & 1:
                continue    # directly in the second scope of the barrier that did it
            if not self.covers(self.row("exec", queue, s), op):
                return False
        return True

    def visible_everywhere(self, op: Op, queue: str, stage_index: int) -> bool:
        return self.covers(self.row("vis", queue, stage_index), op)
