"""Stages a queue can execute: every stage mask recorded on a queue (pass accesses, barrier and
event masks, semaphore wait and signal masks) must be supported by its queue family
(VUID-vkCmdPipelineBarrier2-srcStageMask-03849 and siblings, "Supported pipeline stage flags").

The plan names queues, not family capabilities, so a family's capabilities are read from the
queues mapped to it: a family that hosts only `compute` (and perhaps `transfer`) does compute and
transfer work, one that hosts only `transfer` transfer work; any other family (`graphics`, or a
queue name whose role the plan does not say) is taken to do everything.
CLEAR counts as transfer work here (vkCmdFillBuffer runs on transfer queues), the lenient reading.
"""
from __future__ import annotations

from .problems import Reporter

_ANYWHERE = {"NONE", "TOP_OF_PIPE", "BOTTOM_OF_PIPE", "ALL_COMMANDS", "HOST"}
_TRANSFER = _ANYWHERE | {"ALL_TRANSFER", "TRANSFER", "COPY", "CLEAR"}
_COMPUTE = _TRANSFER | {"COMPUTE_SHADER", "DRAW_INDIRECT"}
_ROLE_STAGES = {"compute": _COMPUTE, "transfer": _TRANSFER}


def family_stages(queues: dict) -> dict[str, set[str] | None]:
    """{queue name: the stage names its family supports, or None for every stage}."""
    roles: dict = {}
    for name, q in queues.items():
        roles.setdefault((q or {}).get("family"), set()).add(name)
    out = {}
    for name, q in queues.items():
        on_family = roles[(q or {}).get("family")]
        if on_family - set(_ROLE_STAGES):      # graphics, or a name whose role the plan does not say
            out[name] = None
        else:
            out[name] = _COMPUTE if "compute" in on_family else _TRANSFER
    return out


def check_queue_stages(plan: dict, report: Reporter) -> None:
    supported = family_stages(plan.get("queues") or {})
    passes = {p.get("name"): p for p in plan.get("passes", ())}

    def check(queue, names, pass_name, resource, what):
        allowed = supported.get(queue)
        if allowed is None:
            return
        bad = sorted({_short(n) for n in names or ()} - allowed)
        if bad:
            report.add("queue", pass_name, resource or "",
                       f"{what} names {', '.join(bad)}, which the '{queue}' queue's family cannot execute")

    for submit in plan.get("submits", ()):
        queue = submit.get("queue")
        commands = submit.get("commands", ())
        consumers = _next_passes(commands)       # the pass each command precedes (or is)
        first = consumers[0] if consumers else None
        for w in submit.get("wait") or ():
            check(queue, w.get("stages"), first, w.get("acquire") or "", "a semaphore wait")
        if submit.get("signal"):
            check(queue, submit["signal"].get("stages"), first, "", "the submit's signal")
        for cmd, consumer in zip(commands, consumers):
            op = cmd.get("op")
            if op == "pass":
                for a in (passes.get(cmd.get("pass")) or {}).get("accesses", ()):
                    check(queue, a.get("stages"), cmd.get("pass"), a.get("resource"), "an access")
            elif op == "reset_event":
                check(queue, cmd.get("stages"), consumer, "", f"reset_event '{cmd.get('event')}'")
            deps = [cmd.get("dependency")] if op in ("barrier", "set_event") else cmd.get("dependencies") or []
            for dep in deps:
                for kind in ("memory", "buffers", "images"):
                    for b in (dep or {}).get(kind, ()):
                        for side in ("src_stages", "dst_stages"):
                            check(queue, b.get(side), consumer, b.get("resource"), f"a barrier's {side}")


def _next_passes(commands) -> list:
    out, upcoming = [], None
    for cmd in reversed(commands):
        if cmd.get("op") == "pass":
            upcoming = cmd.get("pass")
        out.append(upcoming)
    return out[::-1]


def _short(name: str) -> str:
    name = name.removeprefix("VK_PIPELINE_STAGE_2_")
    return name.removesuffix("_BIT")
