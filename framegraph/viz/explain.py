"""Explain a compiled plan in words: every synchronization entry (barrier entry, event set/wait,
semaphore wait) with the producer → consumer pair it orders, the subresource, hazard, masks and
layouts; then each resource's state history through the frame.

The plan keeps provenance (`reasons`) per command, not per entry, so an entry's pair is the
command's reasons narrowed to the ones whose passes touch that entry's subresource range.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..plan import (BarrierCmd, BufferBarrier, ImageBarrier, PassCmd, Plan, ResetEventCmd, SetEventCmd,
                    WaitEventsCmd)
from ..vk import Layout

KINDS = ("barrier", "set_event", "wait_event", "semaphore_wait")


# -- short names ------------------------------------------------------------------------------
def flags(value) -> str:
    """`EARLY_FRAGMENT_TESTS|LATE_FRAGMENT_TESTS` for a Stage/Access flag; `NONE` when empty."""
    names = [m.name for m in type(value)._single_bits() if m & value]
    return "|".join(names) if names else "NONE"


def layout(l: Layout | None) -> str:
    return "-" if l is None else l.name


def span(base: int, count: int, one: str, many: str) -> str:
    return f"{one} {base}" if count == 1 else f"{many} {base}-{base + count - 1}"


def subresource(entry) -> str:
    """`mip 1, layer 0` / `mips 0-2, layers 0-1` for images, `bytes [0, 4096)` for buffers."""
    if getattr(entry, "mips", None) is not None and getattr(entry, "layers", None) is not None:
        return f"{span(*entry.mips, 'mip', 'mips')}, {span(*entry.layers, 'layer', 'layers')}"
    rng = getattr(entry, "range", None)
    if rng is not None:
        return f"bytes [{rng[0]}, {rng[0] + rng[1]})"
    return "all memory"


def size_text(n: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} B"


# -- sync entries -----------------------------------------------------------------------------
@dataclass
class SyncEntry:
    """One numbered line of explain.txt. `kind` is one of KINDS; `item` the barrier entry
    (Memory/Buffer/ImageBarrier), the event's Dependency, or the semaphore Wait."""
    number: int
    kind: str
    submit: int               # 1-based index into plan.submits
    queue: str
    item: object
    command: object = None
    event: str | None = None
    before: str | None = None  # next pass on this stream in this submit, if any
    after: str | None = None   # previous pass on this stream in this submit, if any
    reasons: tuple = ()
    resource: str | None = None
    set_numbers: list = field(default_factory=list)   # wait_event: the set_event entries it waits on


def _entries_of(dep):
    return (*dep.memory, *dep.buffers, *dep.images)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[0] + b[1] and b[0] < a[0] + a[1]


class _Index:
    """Who touches what, in the compiled order, to narrow a command's reasons to one entry."""

    def __init__(self, plan: Plan):
        self.position = {p.name: i for i, p in enumerate(plan.passes)}
        self.passes = {p.name: p for p in plan.passes}

    def touches(self, pass_name: str, entry) -> bool:
        p = self.passes.get(pass_name)
        if p is None:
            return False
        for a in p.accesses:
            if a.resource != entry.resource:
                continue
            if isinstance(entry, ImageBarrier) and a.mips is not None:
                if _overlap(a.mips, entry.mips) and _overlap(a.layers, entry.layers):
                    return True
            elif isinstance(entry, BufferBarrier) and a.range is not None:
                if _overlap(a.range, entry.range):
                    return True
        return False

    def untouched_between(self, entry, lo: int, hi: int) -> bool:
        return not any(self.touches(p.name, entry) for p in list(self.passes.values())[lo:hi])

    def matches(self, reason, entry) -> bool:
        if reason.hazard == "alias":
            return True
        n = len(self.passes)
        if reason.consumer is not None and not self.touches(reason.consumer, entry):
            return False
        if reason.producer is not None and not self.touches(reason.producer, entry):
            return False
        # A null producer is the initial state: only right if nothing touched the range earlier.
        if reason.producer is None:
            hi = self.position.get(reason.consumer, n)
            return self.untouched_between(entry, 0, hi)
        if reason.consumer is None:
            return self.untouched_between(entry, self.position.get(reason.producer, -1) + 1, n)
        return True


def narrow_reasons(reasons, entry, index: _Index) -> tuple:
    resource = getattr(entry, "resource", None)
    if resource is None:
        return tuple(reasons)
    same = [r for r in reasons if r.resource == resource]
    if len(same) <= 1:
        return tuple(same)
    narrowed = [r for r in same if index.matches(r, entry)]
    return tuple(narrowed or same)


def sync_entries(plan: Plan) -> list[SyncEntry]:
    """Every synchronization entry of the plan, in submission order: one per barrier entry of a
    vkCmdPipelineBarrier2, one per barrier entry of a vkCmdSetEvent2, one per event waited by a
    vkCmdWaitEvents2, one per semaphore wait of a submit."""
    index = _Index(plan)
    out: list[SyncEntry] = []
    set_numbers: dict[str, list[int]] = {}

    def add(**kw):
        out.append(SyncEntry(number=len(out) + 1, **kw))
        return out[-1]

    for s_i, s in enumerate(plan.submits, 1):
        passes = [c.pass_name for c in s.commands if isinstance(c, PassCmd)]
        for w in s.waits:
            add(kind="semaphore_wait", submit=s_i, queue=s.queue, item=w, before=passes[0] if passes else None,
                resource=w.acquire)
        prev = None
        for c_i, c in enumerate(s.commands):
            if isinstance(c, PassCmd):
                prev = c.pass_name
                continue
            nxt = next((x.pass_name for x in s.commands[c_i + 1:] if isinstance(x, PassCmd)), None)
            where = dict(submit=s_i, queue=s.queue, command=c, before=nxt, after=prev)
            if isinstance(c, BarrierCmd):
                for e in _entries_of(c.dependency):
                    add(kind="barrier", item=e, reasons=narrow_reasons(c.reasons, e, index),
                        resource=getattr(e, "resource", None), **where)
            elif isinstance(c, SetEventCmd):
                nums = set_numbers.setdefault(c.event, [])
                for e in _entries_of(c.dependency):
                    nums.append(add(kind="set_event", item=e, event=c.event,
                                    reasons=narrow_reasons(c.reasons, e, index),
                                    resource=getattr(e, "resource", None), **where).number)
            elif isinstance(c, WaitEventsCmd):
                for ev, dep in zip(c.events, c.dependencies):
                    resources = {getattr(e, "resource", None) for e in _entries_of(dep)}
                    reasons = tuple(r for r in c.reasons if r.resource in resources) or c.reasons
                    add(kind="wait_event", item=dep, event=ev, reasons=reasons,
                        set_numbers=list(set_numbers.get(ev, [])), **where)
    return out


def count_sync_entries(plan: Plan) -> dict[str, int]:
    """The same count as sync_entries(), straight from the plan (what tests compare against)."""
    n = dict.fromkeys(KINDS, 0)
    for s in plan.submits:
        n["semaphore_wait"] += len(s.waits)
        for c in s.commands:
            if isinstance(c, BarrierCmd):
                n["barrier"] += len(_entries_of(c.dependency))
            elif isinstance(c, SetEventCmd):
                n["set_event"] += len(_entries_of(c.dependency))
            elif isinstance(c, WaitEventsCmd):
                n["wait_event"] += len(c.events)
    return n


# -- text -------------------------------------------------------------------------------------
def _reason_text(r) -> str:
    producer = r.producer or "initial state"
    consumer = r.consumer or "final state"
    return f"{producer} → {consumer} · {r.resource} · {r.hazard}"


def _masks(e, pad: str) -> list[str]:
    lines = [f"{pad}src {flags(e.src_stages)} / {flags(e.src_access)}",
             f"{pad}dst {flags(e.dst_stages)} / {flags(e.dst_access)}"]
    if isinstance(e, ImageBarrier):
        lines.append(f"{pad}layout {layout(e.old_layout)} → {layout(e.new_layout)}")
    src_q, dst_q = getattr(e, "src_queue", None), getattr(e, "dst_queue", None)
    if src_q is not None or dst_q is not None:
        role = "release" if not e.dst_stages else "acquire" if not e.src_stages else "transfer"
        lines.append(f"{pad}ownership {role}: family {src_q} → family {dst_q}")
    return lines


def _what(e) -> str:
    if isinstance(e, ImageBarrier):
        return f"image {e.resource} ({subresource(e)})"
    if isinstance(e, BufferBarrier):
        return f"buffer {e.resource} ({subresource(e)})"
    return "memory (global)"


def _where(se: SyncEntry) -> str:
    if se.before and se.after:
        return f"between {se.after} and {se.before}"
    if se.before:
        return f"before {se.before}"
    if se.after:
        return f"after {se.after}"
    return "empty submit"


def _signal_passes(plan: Plan, queue: str, value: int) -> set[str]:
    return {c.pass_name for s in plan.submits if s.queue == queue and s.signal_value <= value
            for c in s.commands if isinstance(c, PassCmd)}


def _all_reasons(plan: Plan) -> list:
    seen, out = set(), []
    for c in plan.commands():
        for r in getattr(c, "reasons", ()):
            if r not in seen:
                seen.add(r)
                out.append(r)
    return out


def _semaphore_lines(plan: Plan, se: SyncEntry, pad: str) -> list[str]:
    w = se.item
    s = plan.submits[se.submit - 1]
    consumers = [c.pass_name for c in s.commands if isinstance(c, PassCmd)]
    if w.acquire is not None:
        first = next((p for p in consumers
                      if any(a.resource == w.acquire for a in plan.pass_named(p).accesses)), se.before)
        return [f"#{se.number} semaphore wait · binary · acquire {w.acquire} (vkAcquireNextImageKHR)",
                f"{pad}presentation engine → {first} · {w.acquire} · acquire",
                f"{pad}wait stages {flags(w.stages)} (the first use's stages: its layout transition chains after it)"]
    producers = _signal_passes(plan, w.queue, w.value)
    pairs = [r for r in _all_reasons(plan) if r.producer in producers and r.consumer in consumers]
    lines = [f"#{se.number} semaphore wait · timeline {w.queue} ≥ {w.value}, in {se.queue} submit {se.submit}"]
    lines += [f"{pad}{_reason_text(r)}" for r in pairs]
    if not pairs:
        lines.append(f"{pad}orders {w.queue} work ({', '.join(sorted(producers)) or 'none'}) before "
                     f"{', '.join(consumers) or 'this submit'}")
    lines.append(f"{pad}wait stages {flags(w.stages)}")
    return lines


def _entry_lines(plan: Plan, se: SyncEntry) -> list[str]:
    pad = " " * 5
    if se.kind == "semaphore_wait":
        return _semaphore_lines(plan, se, pad)
    if se.kind == "wait_event":
        dep = se.item
        refs = ", ".join(f"#{n}" for n in se.set_numbers) or "?"
        lines = [f"#{se.number} wait_event {se.event} · {_where(se)} · waits on set {refs}"]
        lines += [f"{pad}{_reason_text(r)}" for r in se.reasons]
        for e in _entries_of(dep):
            lines.append(f"{pad}{_what(e)}")
            lines += _masks(e, pad + "  ")
        return lines
    e = se.item
    head = "barrier" if se.kind == "barrier" else f"set_event {se.event}"
    lines = [f"#{se.number} {head} · {_what(e)} · {_where(se)}"]
    lines += [f"{pad}{_reason_text(r)}" for r in se.reasons] or [f"{pad}(no recorded reason)"]
    lines += _masks(e, pad)
    return lines


def _header(plan: Plan) -> list[str]:
    st = plan.stats
    device = plan.options.get("device", "?") if plan.options else "?"
    streams = ", ".join(f"{q} (family {v.get('family')}, index {v.get('index')})" for q, v in plan.queues.items())
    order = ", ".join(f"{i} {p.name}" + (f" [{p.queue} on {p.stream}]" if p.queue != p.stream else
                                          (f" [{p.stream}]" if len(plan.queues) > 1 else ""))
                      for i, p in enumerate(plan.passes))
    lines = [f"framegraph explain · graph {plan.graph} · strategy {plan.strategy} · device {device}",
             "Names drop their VK_PIPELINE_STAGE_2_ / VK_ACCESS_2_ / VK_IMAGE_LAYOUT_ prefixes and _BIT suffixes.",
             "An entry's pair reads producer → consumer · resource · hazard (initial/final state when a side is "
             "outside the frame).",
             "",
             f"streams: {streams}",
             f"passes (compiled order): {order}",
             f"culled: {', '.join(plan.culled) or 'none'}"]
    if st:
        lines.append(f"stats: {st.get('barrier_calls', 0)} barrier calls ({st.get('image_barriers', 0)} image, "
                     f"{st.get('buffer_barriers', 0)} buffer, {st.get('memory_barriers', 0)} memory entries), "
                     f"{st.get('events', 0)} events, {st.get('semaphore_waits', 0)} semaphore waits, "
                     f"{st.get('submits', len(plan.submits))} submits")
        if "transient_bytes" in st:
            lines.append(f"transient memory: {st['transient_bytes']} bytes placed, "
                         f"{st.get('transient_bytes_unaliased', '?')} unaliased, "
                         f"{st.get('transient_bytes_lower_bound', '?')} lower bound")
    return lines


def _sync_section(plan: Plan, entries: list[SyncEntry]) -> list[str]:
    counts = count_sync_entries(plan)
    lines = ["", f"== Synchronization, in submission order: {len(entries)} entries "
             f"({counts['barrier']} barrier, {counts['set_event']} set_event, {counts['wait_event']} wait_event, "
             f"{counts['semaphore_wait']} semaphore wait) =="]
    by_command: dict[int, list[SyncEntry]] = {}
    waits: dict[int, list[SyncEntry]] = {}
    for se in entries:
        if se.kind == "semaphore_wait":
            waits.setdefault(se.submit, []).append(se)
        else:
            by_command.setdefault(id(se.command), []).append(se)
    for s_i, s in enumerate(plan.submits, 1):
        present = f" · presents {', '.join(s.present)}" if s.present else ""
        lines += ["", f"-- submit {s_i} · {s.queue} · signals {s.queue} timeline = {s.signal_value} at "
                      f"{flags(s.signal_stages)}{present} --"]
        for se in waits.get(s_i, []):
            lines += _entry_lines(plan, se)
        for c in s.commands:
            if isinstance(c, PassCmd):
                lines.append(f"   pass {c.pass_name}")
            elif isinstance(c, ResetEventCmd):
                lines.append(f"   reset_event {c.event} at {flags(c.stages)}")
            else:
                call = {"barrier": "vkCmdPipelineBarrier2", "set_event": "vkCmdSetEvent2",
                        "wait_events": "vkCmdWaitEvents2"}[c.op]
                group = by_command.get(id(c), [])
                lines.append(f"   {call}: {len(group)} entr{'y' if len(group) == 1 else 'ies'}")
                for se in group:
                    lines += _entry_lines(plan, se)
    return lines


def _access_text(a) -> str:
    rng = subresource(a)
    lay = f" · {layout(a.layout)}" if a.layout is not None else ""
    discard = " · discard" if a.discard else ""
    return f"{rng} · {flags(a.stages)} / {flags(a.access)}{lay}{discard}"


def _state_text(state) -> str:
    if state is None:
        return "left in the state of its last access"
    lay = f" · {layout(state.layout)}" if state.layout is not None else ""
    return f"{flags(state.stages)} / {flags(state.access)}{lay}"


def _resource_desc(r) -> str:
    kind = "transient" if r.transient else "swapchain" if r.swapchain else "history" if r.history else "imported"
    if r.kind == "image":
        w, h, d = r.extent
        shape = f"{w}x{h}" + (f"x{d}" if d > 1 else "")
        desc = f"image {r.format.removeprefix('VK_FORMAT_') if r.format else '?'} {shape}, " \
               f"{r.mips} mip{'s' if r.mips != 1 else ''}, {r.layers} layer{'s' if r.layers != 1 else ''}"
    else:
        desc = "buffer"
    place = f", heap {r.heap} offset {r.offset}" if r.heap is not None else ""
    return f"{r.name} · {desc} · {kind} · {size_text(r.size)}{place}"


def _history_section(plan: Plan, entries: list[SyncEntry]) -> list[str]:
    lines = ["", "== Resource state history (compiled order; '←' = the sync entries that bring the "
                 "resource into that state) =="]
    # Which entries lead into (consumer, resource), and out to the final state.
    into: dict[tuple, list[SyncEntry]] = {}
    for se in entries:
        if se.kind in ("semaphore_wait", "wait_event"):
            continue
        for r in se.reasons:
            if r.resource == se.resource:
                into.setdefault((r.consumer, r.resource), [])
                if se not in into[(r.consumer, r.resource)]:
                    into[(r.consumer, r.resource)].append(se)
    width = max((len(p.name) for p in plan.passes), default=4)
    for r in plan.resources:
        lines += ["", _resource_desc(r)]
        if r.imported:
            lines.append(f"  {'start':<{width + 4}} {_state_text(r.initial)}")
        else:
            lines.append(f"  {'start':<{width + 4}} UNDEFINED (transient: contents not preserved)")
        for i, p in enumerate(plan.passes):
            for a in p.accesses:
                if a.resource != r.name:
                    continue
                lines.append(f"  {i:>2} {p.name:<{width}} {_access_text(a)} [{p.queue}]")
            if any(a.resource == r.name for a in p.accesses):
                lines += _into_lines(into.get((p.name, r.name), []), width)
        if r.imported:
            lines.append(f"  {'end':<{width + 4}} {_state_text(r.final)}")
            lines += _into_lines(into.get((None, r.name), []), width)
    return lines


def _into_lines(ses: list[SyncEntry], width: int) -> list[str]:
    out = []
    for se in ses:
        e = se.item
        change = f" {layout(e.old_layout)} → {layout(e.new_layout)}" if isinstance(e, ImageBarrier) else ""
        kind = "barrier" if se.kind == "barrier" else f"set_event {se.event}"
        out.append(f"  {'':<{width + 4}}   ← #{se.number} {kind} ({subresource(e)}){change}")
    return out


def explain(plan: Plan) -> str:
    """The whole plan in words: header, every sync entry in submission order, resource histories."""
    entries = sync_entries(plan)
    return "\n".join(_header(plan) + _sync_section(plan, entries) + _history_section(plan, entries)) + "\n"
