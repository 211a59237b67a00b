"""Stage: order. The execution order of the kept passes.

Declaration order is program order (already a topological order). With `reorder=True` the kept
passes are list-scheduled over their dependency graph (RAW, WAR and WAW edges per subresource,
built over the kept passes only, so an edge through a culled pass cannot be lost), so every
topological order observes the same data; see DependencyGraph.schedule.
"""
from __future__ import annotations

from .cull import CullResult
from .depgraph import DependencyGraph
from .options import CompileOptions
from .validate import ResolvedGraph


def hazard_edges(rg: ResolvedGraph, kept: tuple[int, ...]) -> dict[int, set[int]]:
    """Predecessors of each kept pass: every earlier pass it must stay after."""
    return {p: set(ps) for p, ps in DependencyGraph(rg, kept).preds.items()}


def reorder(rg: ResolvedGraph, kept: tuple[int, ...]) -> tuple[int, ...]:
    return DependencyGraph(rg, kept).schedule(reorder=True)


def order_passes(rg: ResolvedGraph, culled: CullResult | None, options: CompileOptions) -> tuple[int, ...]:
    kept = culled.kept if culled is not None else tuple(range(len(rg.passes)))
    if options.reorder:
        return reorder(rg, kept)
    return kept
