"""Cross-check that a plan describes the graph it claims to: every declared pass is kept or
culled, kept passes keep their queue and every declared access (masks and ranges), and every
resource used is listed. The simulator (verify.py) then trusts the plan's own access lists."""
from __future__ import annotations

from .access import lookup
from .graph import Graph
from .vk import Access, Stage


def check_plan_against_graph(graph: Graph, plan: dict) -> list[str]:
    problems = []
    plan_passes = {p["name"]: p for p in plan.get("passes", [])}
    culled = set(plan.get("culled", []))
    resources = {r["name"] for r in plan.get("resources", [])}
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
            if not any(_covers(pa, a, info) for pa in pp.get("accesses", []) if pa["resource"] == a.resource):
                problems.append(f"pass '{p.name}', resource '{a.resource}': declared access '{a.access}' "
                                f"missing from the plan")
    for name in plan_passes:
        if name not in {p.name for p in graph.passes}:
            problems.append(f"pass '{name}': in the plan but not declared")
    return problems


def _covers(pa: dict, a, info) -> bool:
    stages = Stage.from_names(pa["stages"])
    access = Access.from_names(pa["access"])
    if (info.stages & ~stages) or (info.access & ~access):
        return False
    # A declared range may be split over several plan entries; accept any overlapping entry here,
    # full coverage is checked by the simulator's per-subresource state.
    for key in ("mips", "layers", "range"):
        want = getattr(a, key)
        have = pa.get(key)
        if want is not None and have is not None:
            if want[0] + want[1] <= have[0] or have[0] + have[1] <= want[0]:
                return False
    return True
