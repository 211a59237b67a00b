"""Stage: cull. Keep the passes whose results reach an output or an imported resource: a reverse
walk over the dependency graph's RAW edges from the roots (passes writing imported resources, and
the last writers of the outputs)."""
from __future__ import annotations

from dataclasses import dataclass

from .depgraph import DependencyGraph
from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class CullResult:
    kept: tuple[int, ...]        # pass indices, declaration order
    culled: tuple[str, ...]
    deps: DependencyGraph        # over every declared pass


def cull(rg: ResolvedGraph) -> CullResult:
    deps = DependencyGraph(rg, tuple(range(len(rg.passes))))
    roots = {p.index for p in rg.passes
             if any(a.writes and rg.resources[a.resource].decl.imported for a in p.accesses)}
    outputs = set(rg.outputs)
    roots.update(w for (r, _u), w in deps.last_writer.items() if r in outputs)
    kept = deps.cull(roots)
    keep = set(kept)
    culled = tuple(p.name for p in rg.passes if p.index not in keep)
    return CullResult(kept, culled, deps)
