"""Stage 2, cull: keep the passes whose results reach an output or an imported resource.

The dependency DAG lives in networkx (pass indices as nodes): an edge producer → consumer for
every read of a unit the producer last wrote, and for every write that keeps (loads) contents.
"""
from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class CullResult:
    kept: tuple[int, ...]        # pass indices, declaration order
    culled: tuple[str, ...]
    dag: nx.DiGraph


def dependency_dag(rg: ResolvedGraph) -> nx.DiGraph:
    dag = nx.DiGraph()
    dag.add_nodes_from(range(len(rg.passes)))
    last_writer: dict[tuple[int, int], int] = {}
    edges = []
    for p in rg.passes:
        for a in p.accesses:
            needs_old = a.reads or not a.discard
            if needs_old:
                for u in a.units:
                    w = last_writer.get((a.resource, u))
                    if w is not None and w != p.index:
                        edges.append((w, p.index, rg.resources[a.resource].name))
        for a in p.accesses:
            if a.writes:
                for u in a.units:
                    last_writer[(a.resource, u)] = p.index
    for w, r, name in edges:
        if dag.has_edge(w, r):
            dag[w][r]["resources"].add(name)
        else:
            dag.add_edge(w, r, resources={name})
    dag.graph["last_writer"] = last_writer
    return dag


def cull(rg: ResolvedGraph) -> CullResult:
    dag = dependency_dag(rg)
    last_writer = dag.graph["last_writer"]
    roots = set()
    for p in rg.passes:
        if any(a.writes and rg.resources[a.resource].decl.imported for a in p.accesses):
            roots.add(p.index)
    for r in rg.outputs:
        for (res, _u), w in last_writer.items():
            if res == r:
                roots.add(w)
    # One reverse walk from all roots at once (nx.ancestors per root would be quadratic).
    keep = set(roots)
    stack = list(roots)
    pred = dag.pred
    while stack:
        for producer in pred[stack.pop()]:
            if producer not in keep:
                keep.add(producer)
                stack.append(producer)
    kept = tuple(sorted(keep))
    culled = tuple(p.name for p in rg.passes if p.index not in keep)
    return CullResult(kept, culled, dag)
