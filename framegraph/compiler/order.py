"""Stage 3, order: the execution order of kept passes. Declaration order is program order;
reordering (to widen producer→consumer gaps) is an option that never changes what a read sees."""
from __future__ import annotations

from .cull import CullResult
from .options import CompileOptions
from .validate import ResolvedGraph


def order_passes(rg: ResolvedGraph, culled: CullResult | None, options: CompileOptions) -> tuple[int, ...]:
    kept = culled.kept if culled is not None else tuple(range(len(rg.passes)))
    return kept
