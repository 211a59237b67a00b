"""The pass dependency graph (Filament's DependencyGraph): passes are nodes, typed edges say why one
must run after another. Culling walks RAW edges back from the roots; scheduling keeps every edge.

Edges come from one walk over the declared accesses per subresource unit: RAW (a read, or a write
that keeps the old contents, after the unit's last write), WAW (a discarding write after a write)
and WAR (a write after reads). networkx is only for export and analysis (`to_networkx`).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from .validate import ResolvedGraph

RAW, WAR, WAW = "RAW", "WAR", "WAW"


@dataclass(frozen=True, slots=True)
class Edge:
    producer: int      # pass index
    consumer: int
    hazard: str        # RAW | WAR | WAW
    resource: str


class DependencyGraph:
    """Typed edges between the passes `nodes` (pass indices in program order)."""
    __slots__ = ("nodes", "preds", "last_writer", "_edges", "_rg")

    def __init__(self, rg: ResolvedGraph, nodes: tuple[int, ...]) -> None:
        self._rg = rg
        self.nodes = nodes
        # consumer -> {producer: hazard}: the strongest hazard wins (RAW over WAW over WAR), one
        # entry per pair keeps the graph linear in the passes' accesses.
        self.preds: dict[int, dict[int, str]] = {p: {} for p in nodes}
        self._edges: dict[tuple[int, int], set[str]] = {}
        last_writer: dict[tuple[int, int], int] = {}
        readers: dict[tuple[int, int], list[int]] = {}
        passes = rg.passes
        for p in nodes:
            mine = self.preds[p]
            accesses = passes[p].accesses
            for a in accesses:
                loads = a.reads or not a.discard
                r = a.resource
                for u in a.units:
                    key = (r, u)
                    w = last_writer.get(key)
                    if w is not None and w != p:
                        self._add(mine, w, p, RAW if loads else WAW, r)
                    if a.writes:
                        for q in readers.get(key, ()):
                            if q != p:
                                self._add(mine, q, p, WAR, r)
            for a in accesses:
                r = a.resource
                if a.writes:
                    for u in a.units:
                        last_writer[(r, u)] = p
                        readers[(r, u)] = []
                else:
                    for u in a.units:
                        readers.setdefault((r, u), []).append(p)
        self.last_writer = last_writer

    _RANK = {RAW: 3, WAW: 2, WAR: 1}

    def _add(self, mine: dict, producer: int, consumer: int, hazard: str, resource: int) -> None:
        cur = mine.get(producer)
        if cur is None or self._RANK[hazard] > self._RANK[cur]:
            mine[producer] = hazard
        names = self._edges.get((producer, consumer))
        if names is None:
            self._edges[(producer, consumer)] = names = set()
        names.add(resource)

    def edges(self) -> tuple[Edge, ...]:
        names = self._rg.resources
        return tuple(Edge(q, p, h, names[r].name) for p, ps in self.preds.items() for q, h in ps.items()
                     for r in sorted(self._edges[(q, p)]))

    def cull(self, roots) -> tuple[int, ...]:
        """The nodes whose results reach a root, through RAW edges (one reverse walk from all roots)."""
        keep = set(roots)
        stack = list(keep)
        preds = self.preds
        while stack:
            for producer, hazard in preds[stack.pop()].items():
                if hazard == RAW and producer not in keep:
                    keep.add(producer)
                    stack.append(producer)
        return tuple(p for p in self.nodes if p in keep)

    def schedule(self, reorder: bool) -> tuple[int, ...]:
        """A topological order of the nodes. Without `reorder`, program order (already one). With it,
        list scheduling where among ready passes the one whose latest producer ran longest ago goes
        first (Granite's idea): wider producer -> consumer gaps for split barriers."""
        if not reorder:
            return self.nodes
        succs: dict[int, list[int]] = {p: [] for p in self.nodes}
        for p, ps in self.preds.items():
            for q in ps:
                succs[q].append(p)
        waiting = {p: len(ps) for p, ps in self.preds.items()}
        latest = {p: -1 for p in self.nodes}
        ready = [(-1, p) for p in self.nodes if waiting[p] == 0]
        heapq.heapify(ready)
        order = []
        while ready:
            _, p = heapq.heappop(ready)
            pos = len(order)
            order.append(p)
            for s in succs[p]:
                latest[s] = max(latest[s], pos)
                waiting[s] -= 1
                if waiting[s] == 0:
                    heapq.heappush(ready, (latest[s], s))
        return tuple(order)

    def to_networkx(self):
        """A networkx DiGraph of pass indices with `hazard` and `resources` on each edge (export,
        cycle reports and analysis; never on the compile's hot path)."""
        import networkx as nx
        dag = nx.DiGraph()
        dag.add_nodes_from(self.nodes)
        names = self._rg.resources
        for p, ps in self.preds.items():
            for q, h in ps.items():
                dag.add_edge(q, p, hazard=h, resources={names[r].name for r in self._edges[(q, p)]})
        return dag
