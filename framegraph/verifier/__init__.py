"""An independent check of compiled plans: a simulator of the Vulkan synchronization2 execution and
memory model over a `framegraph-plan/1` dict.  It imports nothing else from framegraph (and never
`vulkan`), so a compiler bug cannot hide in a shared helper.

    problems = verify_plan(plan)          # a Plan, or a plan dict; [] when free of hazards
    for p in problems: print(p)           # "RAW: pass 'lighting', resource 'depth': ..."
    verify_plan(plan_dict, driver_rules=True)   # also what the H100 did beyond the spec (driver_rules.py)

What it models
- Execution order per queue and stage as vector clocks: a barrier's first scope is its source stages
  and everything logically earlier, its second scope the destination stages and everything later;
  chains form when a later first scope meets an earlier second scope.  Execution dependencies are
  global, whatever resource a barrier names.  Semaphore signals cover all earlier work of their
  queue at the signal stages; a wait for value V covers every signal <= the first value >= V.
- Memory per write: availability (the write's stage and access in a barrier's source access scope,
  or a semaphore signal, or a full global memory barrier) and visibility per queue as (stage, access)
  pairs.  A read needs the last write ordered before it and visible to it (RAW); a write needs the
  reads since ordered before it (WAR) or, with none, the last write ordered and visible (WAW).
- Image layouts per subresource; a layout transition is a write between the barrier's scopes, from
  UNDEFINED it discards the contents.  Buffers are tracked by byte intervals split on demand.
- Events (the first scope is taken at set_event), queue family ownership (release/acquire at a
  pseudo-stage only ALL_COMMANDS covers), aliasing (heap occupancy), and the imported resources'
  final states as a virtual access at the end of the queue that used them last.
- Stage masks a queue's family cannot execute (queue_caps.py; the family's capabilities are read
  from the queues mapped to it).

What it simplifies
- Access bits are not checked against the stages they are used with; access scopes are products
  of the named stages and access types.
- A write made available once counts as available for every later barrier chained to it.
- An imported resource's previous use (`initial`) is placed on the queue that first touches each
  subresource; end-of-frame synchronization is checked only where the frame touched the resource.
- Global memory barriers with partial access masks are applied write by write (O(subresources)).
"""
from __future__ import annotations

import json

from .driver_rules import check_driver_rules
from .plan_model import check_plan
from .problems import KINDS, Problem, Reporter
from .queue_caps import check_queue_stages
from .simulate import Simulator

__all__ = ["KINDS", "Problem", "verify_plan"]


def verify_plan(plan, *, driver_rules: bool = False) -> list[Problem]:
    """Every hazard and plan error found by simulating `plan` (a compiled Plan, its JSON text, or
    the dict of a `framegraph-plan/1` file), in the order they happen; with `driver_rules`, then
    the event shapes that corrupted renders on a real driver (kind 'driver')."""
    if isinstance(plan, (str, bytes)):
        plan = json.loads(plan)
    elif not isinstance(plan, dict) and hasattr(plan, "to_json"):
        # Through the JSON text, not the object: the verifier sees exactly what the file format says.
        plan = json.loads(plan.to_json())
    malformed = check_plan(plan)
    if malformed:   # a plan of the wrong shape is reported where it is wrong, never simulated into a crash
        return malformed
    problems = Simulator(plan).run()
    report = Reporter()
    check_queue_stages(plan, report)
    if driver_rules:
        check_driver_rules(plan, report)
    return problems + report.problems()
