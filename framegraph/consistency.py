"""Cross-check that a plan describes the graph it claims to: every declared pass is kept or
culled, kept passes keep their queue and every declared access (masks and ranges), and every
resource used is listed. The simulator (verify.py) then trusts the plan's own access lists.
It expects a plan that `verifier.plan_model.check_plan` found well-formed; flags it cannot read are
reported, not raised."""
from __future__ import annotations

from .access import lookup
from .graph import Graph
from .vk import Access, Stage


def check_plan_against_graph(graph: Graph, plan: dict) -> list[str]:
    problems = []
    plan_passes = {p["name"]: p for p in plan.get("passes") or ()}
    culled = set(plan.get("culled") or ())
    resources = {r["name"] for r in plan.get("resources") or ()}
    for p in graph.passes:
        if p.name in culled:
            continue
        pp = plan_passes.get(p.name)
        if pp is None:
            problems.append(f"pass '{p.name}': declared but neither in the plan nor culled")
            continue
        if pp.get("queue") != p.queue:
            problems.append(f"pass '{p.name}': declared on {p.queue}, planned on {pp.get('queue')}")
        for a in p.accesses:
            info = lookup(a.access)
            if a.resource not in resources:
                problems.append(f"pass '{p.name}', resource '{a.resource}': not listed in plan resources")
            if not any(_covers(pa, a, info) for pa in pp.get("accesses") or () if pa.get("resource") == a.resource):
                problems.append(f"pass '{p.name}', resource '{a.resource}': declared access '{a.access}' "
                                f"missing from the plan")
    declared = {p.name for p in graph.passes}
    for name in plan_passes:
        if name not in declared:
            problems.append(f"pass '{name}': in the plan but not declared")
    return problems


def _covers(pa: dict, a, info) -> bool:
    try:
        stages = Stage.from_names(pa.get("stages") or ())
        access = Access.from_names(pa.get("access") or ())
    except (ValueError, TypeError):     # a flag this engine does not emit cannot carry the declared access
        return False
    if (info.stages & ~stages) or (info.access & ~access):
        return False
    # A declared range may be split over several plan entries; accept any overlapping entry here,
    # full coverage is checked by the simulator's per-subresource state.
    for key in ("mips", "layers", "range"):
        want = getattr(a, key)
        have = pa.get(key)
        if want is not None and isinstance(have, list) and len(have) == 2 and all(type(x) is int for x in have):
            if want[0] + want[1] <= have[0] or have[0] + have[1] <= want[0]:
                return False
    return True
