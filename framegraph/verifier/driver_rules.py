"""Rules from what a real driver did, beyond the spec model: split-barrier shapes that the spec
allows and synchronization validation accepts, but that corrupted renders on the lent H100 (driver
580.159.4), localised with scripts/diag_split.py. Opt-in: `verify_plan(plan, driver_rules=True)`.

A layout transition carried by an event may run at vkCmdSetEvent2, so what runs between the set and
its wait on that queue runs beside the transition. On the H100 that broke images when
- a pass between set and wait used the same image (another mip was rendered while one mip was
  transitioned), or
- the transition went from UNDEFINED into an attachment layout (an aliased render target taking over
  its memory) while other passes ran before the wait.
Like the rest of the verifier, this reads only the plan dict.
"""
from __future__ import annotations

from .problems import Reporter

_UNDEFINED = "VK_IMAGE_LAYOUT_UNDEFINED"
_ATTACHMENT = frozenset(f"VK_IMAGE_LAYOUT_{n}" for n in (
    "COLOR_ATTACHMENT_OPTIMAL", "DEPTH_ATTACHMENT_OPTIMAL", "DEPTH_STENCIL_ATTACHMENT_OPTIMAL",
    "ATTACHMENT_OPTIMAL"))


def check_driver_rules(plan: dict, report: Reporter) -> None:
    """Add a 'driver' problem for every event-carried transition of the two shapes above."""
    used_by = {p["name"]: {a["resource"] for a in p.get("accesses", ())} for p in plan.get("passes", ())}
    open_sets: dict[tuple[str, str], tuple[dict, list[str]]] = {}   # (queue, event) -> (set, passes since)
    for submit in plan.get("submits", ()):
        queue = submit.get("queue")
        commands = submit.get("commands", ())
        for i, cmd in enumerate(commands):
            op = cmd.get("op")
            if op == "pass":
                for (q, _), (_, between) in open_sets.items():
                    if q == queue:
                        between.append(cmd.get("pass"))
            elif op == "set_event":
                open_sets[(queue, cmd.get("event"))] = (cmd, [])
            elif op == "wait_events":
                consumer = next((c.get("pass") for c in commands[i + 1:] if c.get("op") == "pass"), None)
                for event in cmd.get("events", ()):
                    entry = open_sets.pop((queue, event), None)
                    if entry is not None:
                        _check_event(report, event, entry[0], entry[1], used_by, consumer)


def _check_event(report: Reporter, event: str, set_cmd: dict, between: list[str], used_by: dict,
                 consumer: str | None) -> None:
    if not between:
        return
    for b in (set_cmd.get("dependency") or {}).get("images", ()):
        old, new = b.get("old_layout"), b.get("new_layout")
        if old is None or old == new:
            continue
        resource = b.get("resource")
        users = [name for name in between if resource in used_by.get(name, ())]
        if users:
            report.add("driver", consumer, resource,
                       f"event '{event}' carries its layout transition ({_short(old)} -> {_short(new)}) while "
                       f"pass '{users[0]}' uses the image before the wait (corrupted images on the H100)")
        elif old == _UNDEFINED and new in _ATTACHMENT:
            report.add("driver", consumer, resource,
                       f"event '{event}' carries a transition from UNDEFINED to {_short(new)} while pass "
                       f"'{between[0]}' runs before the wait (corrupted aliased render targets on the H100)")


def _short(layout: str) -> str:
    return layout.removeprefix("VK_IMAGE_LAYOUT_")
