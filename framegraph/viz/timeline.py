"""The compiled frame on a time axis: one lane per stream (VkQueue), passes as boxes in submission
order, barriers and events as markers with their entry counts, semaphore waits as arrows between
lanes. Start times are estimated by replaying the submits: a submit starts when its lane is free
and every timeline value it waits on has been signalled."""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Patch, Rectangle

from ..plan import BarrierCmd, PassCmd, Plan, ResetEventCmd, SetEventCmd, WaitEventsCmd
from .dot import QUEUE_COLORS, queue_color

BARRIER_COLOR = "#d62828"
SET_COLOR = "#2a9d8f"
WAIT_COLOR = "#7b2cbf"
SEMAPHORE_COLOR = "#333333"
# Vertical budget of one lane (lanes are PITCH apart): the pass box, two rows of marker labels
# above it, the submit band around both, and a free gap between bands for semaphore labels.
PITCH = 1.45
BOX_H = 0.5
BAND_LO, BAND_HI = -0.42, 0.62


@dataclass
class _Item:
    kind: str         # pass | barrier | set_event | wait_events | reset_event
    lane: int
    x0: float
    x1: float
    command: object
    submit: int


def counts_label(dependencies) -> str:
    """`3i 1b` = 3 image, 1 buffer (and `m` memory) barrier entries."""
    i = sum(len(d.images) for d in dependencies)
    b = sum(len(d.buffers) for d in dependencies)
    m = sum(len(d.memory) for d in dependencies)
    parts = [f"{n}{k}" for n, k in ((i, "i"), (b, "b"), (m, "m")) if n]
    return " ".join(parts) or "exec"


def _layout(plan: Plan, gpu_times_ms: dict | None):
    """Replay the submits; returns lanes, items, per-submit spans, semaphore arrows and x unit."""
    # Canonical lane order (graphics on top) keeps the usual graphics↔compute↔transfer arrows short.
    found = list(plan.queues) or sorted({s.queue for s in plan.submits})
    lanes = [q for q in QUEUE_COLORS if q in found] + [q for q in found if q not in QUEUE_COLORS]
    lane_of = {q: i for i, q in enumerate(lanes)}
    if gpu_times_ms:
        known = sorted(v for v in gpu_times_ms.values() if v and v > 0) or [1.0]
        default = known[len(known) // 2]
        width = {p.name: float(gpu_times_ms.get(p.name) or default) for p in plan.passes}
        gap = 0.25 * min(default, known[0] * 4)
    else:
        width = {p.name: 1.0 for p in plan.passes}
        gap = 0.3
    free = {q: 0.0 for q in lanes}
    signalled: dict[tuple[str, int], float] = {}
    items: list[_Item] = []
    spans = []        # (submit index, lane, x0, x1, submit)
    arrows = []       # (from lane, from x, to lane, to x, label)
    for s_i, s in enumerate(plan.submits, 1):
        lane = lane_of.setdefault(s.queue, len(lane_of))
        if s.queue not in free:
            lanes.append(s.queue)
            free[s.queue] = 0.0
        start = free[s.queue]
        for w in s.waits:
            if w.queue is not None and (w.queue, w.value) in signalled:
                start = max(start, signalled[(w.queue, w.value)] + gap)
        t = start
        for c in s.commands:
            if isinstance(c, PassCmd):
                w = width.get(c.pass_name, 1.0)
                items.append(_Item("pass", lane, t, t + w, c, s_i))
                t += w
            else:
                w = gap * (0.4 if isinstance(c, ResetEventCmd) else 1.0)
                items.append(_Item(c.op, lane, t, t + w, c, s_i))
                t += w
        t = max(t, start + gap)
        for w in s.waits:
            if w.queue is not None:
                src = signalled.get((w.queue, w.value), 0.0)
                arrows.append((lane_of[w.queue], src, lane, start, f"≥{w.value}"))
        spans.append((s_i, lane, start, t, s))
        signalled[(s.queue, s.signal_value)] = t
        free[s.queue] = t
    return lanes, items, spans, arrows, gap


def _n(k: int, what: str) -> str:
    return f"{k} {what}" + ("" if k == 1 else "s")


def _fit_label(name: str, box_in: float, box_h_in: float):
    """Font size, text and rotation so a pass name fits its box: shrink, then wrap at '_', then
    turn it upright."""
    def width_in(text, size):
        return max(len(line) for line in text.split("\n")) * 0.6 * size / 72
    for text in (name, _wrap(name)):
        for size in (9, 8, 7, 6.5):
            if width_in(text, size) <= box_in * 0.92 and text.count("\n") * size * 1.3 / 72 < box_h_in:
                return size, text, 0
    size = max(5.5, min(8.0, box_h_in * 0.92 * 72 / (0.6 * len(name))))
    return size, name, 90


def _wrap(name: str) -> str:
    cut = [i for i, ch in enumerate(name) if ch == "_"]
    if not cut:
        return name
    mid = min(cut, key=lambda i: abs(i - len(name) / 2))
    return name[:mid + 1] + "\n" + name[mid + 1:]


def timeline_figure(plan: Plan, gpu_times_ms: dict | None = None) -> Figure:
    """A matplotlib Figure (no pyplot state) of the plan's queue timeline."""
    lanes, items, spans, arrows, gap = _layout(plan, gpu_times_ms)
    end = max([x1 for *_, x1, _ in spans] + [1.0])
    has_acquire = any(w.acquire for s in plan.submits for w in s.waits)
    x_lo, x_hi = -0.5 * gap, end + (2.6 if any(s.present for s in plan.submits) else 0.5) * gap
    units = (x_hi - x_lo) / gap * 0.3          # in pass units when no timings are given
    fig_w = 14.0 if gpu_times_ms else min(22.0, max(10.0, 1.05 * units + 2))
    n = len(lanes)
    fig_h = 1.9 + 1.25 * n
    fig = Figure(figsize=(fig_w, fig_h), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    y_of = lambda lane: (n - 1 - lane) * PITCH     # first lane on top
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(BAND_LO - 0.12, (n - 1) * PITCH + BAND_HI + (0.36 if has_acquire else 0.12))
    ax_w_in, ax_h_in = fig_w * 0.86, fig_h - 1.6
    in_per_x = ax_w_in / (x_hi - x_lo)
    in_per_y = ax_h_in / ((n - 1) * PITCH + BAND_HI - BAND_LO + 0.5)

    # One label per waiting submit and side, listing its waits: arrows converging on one submit
    # would otherwise stack their labels on top of each other.
    wait_labels: dict[tuple[int, float, bool], list[str]] = {}

    # Submits: light bands so what one vkQueueSubmit2 holds is visible.
    for s_i, lane, x0, x1, s in spans:
        y = y_of(lane)
        ax.add_patch(Rectangle((x0, y + BAND_LO), x1 - x0, BAND_HI - BAND_LO, facecolor="#f3f3f3",
                               edgecolor="#c8c8c8", lw=0.8, zorder=0))
        band_in = (x1 - x0) * in_per_x
        fits = [t for t in (f"submit {s_i}: signals {s.queue}={s.signal_value}", f"S{s_i} → {s.queue}={s.signal_value}",
                            f"S{s_i}") if len(t) * 0.6 * 7 / 72 < band_in * 0.95]
        if fits:
            ax.text(x0 + 0.05 * gap, y + BAND_LO + 0.03, fits[0], fontsize=7, color="#666666", va="bottom",
                    zorder=1, clip_on=True)
        for w in s.waits:
            if w.acquire is not None:
                ax.add_patch(FancyArrowPatch((x0, y + BAND_HI + 0.3), (x0, y + BAND_HI), arrowstyle="-|>",
                                             mutation_scale=12, lw=1.4, color=SEMAPHORE_COLOR, shrinkA=0,
                                             shrinkB=0, zorder=6))
                wait_labels.setdefault((lane, x0, True), []).append(f"acquire {w.acquire}")
        if s.present:
            ax.annotate(f"present\n{', '.join(s.present)}", xy=(x1 + 0.9 * gap, y), xytext=(x1 + 0.1 * gap, y),
                        fontsize=7, color=SEMAPHORE_COLOR, ha="left", va="center")
            ax.annotate("", xy=(x1 + 0.2 * gap, y - 0.18), xytext=(x1, y - 0.18),
                        arrowprops=dict(arrowstyle="-|>", color=SEMAPHORE_COLOR, lw=1.2, shrinkA=0, shrinkB=0))

    # Passes.
    passes = {p.name: p for p in plan.passes}
    for it in items:
        if it.kind != "pass":
            continue
        name = it.command.pass_name
        p = passes.get(name)
        y = y_of(it.lane)
        ax.add_patch(Rectangle((it.x0, y - BOX_H / 2), it.x1 - it.x0, BOX_H,
                               facecolor=queue_color(p.queue if p else ""), edgecolor="#333333", lw=1, zorder=2))
        box_in, box_h_in = (it.x1 - it.x0) * in_per_x, BOX_H * in_per_y
        timed = gpu_times_ms and name in gpu_times_ms
        size, text, rot = _fit_label(name, box_in, box_h_in * (0.6 if timed else 1))
        if timed and not rot:
            text += f"\n{gpu_times_ms[name]:.3g} ms"
        ax.text((it.x0 + it.x1) / 2, y, text, ha="center", va="center", fontsize=size, rotation=rot, zorder=3,
                linespacing=1.1, clip_on=True)

    # Sync markers; their labels sit in two staggered rows above the lane so neighbours do not collide.
    label_right: dict[tuple[int, int], float] = {}
    set_x: dict[str, tuple[float, float]] = {}
    for it in items:
        if it.kind == "pass":
            continue
        y = y_of(it.lane)
        x = (it.x0 + it.x1) / 2
        c = it.command
        if isinstance(c, ResetEventCmd):
            ax.plot([x], [y - BOX_H / 2 + 0.06], marker="x", ms=4, color="#888888", zorder=3)
            continue
        if isinstance(c, BarrierCmd):
            ax.add_patch(Rectangle((x - 0.13 * gap, y - BOX_H / 2), 0.26 * gap, BOX_H, facecolor=BARRIER_COLOR,
                                   edgecolor="none", zorder=3))
            text, color = counts_label([c.dependency]), BARRIER_COLOR
            owner = [e for e in (*c.dependency.images, *c.dependency.buffers) if e.src_queue is not None]
            if owner:
                text += " rel" if all(not e.dst_stages for e in owner) else " acq" if all(
                    not e.src_stages for e in owner) else " own"
        elif isinstance(c, SetEventCmd):
            ax.plot([x], [y + BOX_H / 2 - 0.08], marker="^", ms=8, color=SET_COLOR, zorder=4)
            set_x[c.event] = (x, y)
            text, color = f"set {c.event} {counts_label([c.dependency])}", SET_COLOR
        elif isinstance(c, WaitEventsCmd):
            ax.plot([x], [y + BOX_H / 2 - 0.08], marker="v", ms=8, color=WAIT_COLOR, zorder=4)
            text, color = f"wait {','.join(c.events)}", WAIT_COLOR
            for ev in c.events:
                if ev in set_x and set_x[ev][1] == y:
                    ax.add_patch(FancyArrowPatch((set_x[ev][0], y - BOX_H / 2), (x, y - BOX_H / 2),
                                                 connectionstyle="arc3,rad=0.12", arrowstyle="-|>",
                                                 mutation_scale=8, ls="--", lw=0.9, color=WAIT_COLOR, zorder=4))
        else:
            continue
        half = len(text) * 0.6 * 7 / 72 / 2 / in_per_x
        row = 0 if label_right.get((it.lane, 0), -1e9) < x - half else 1
        label_right[(it.lane, row)] = x + half
        ax.text(x, y + BOX_H / 2 + 0.03 + 0.15 * row, text, ha="center", va="bottom", fontsize=7, color=color,
                zorder=5)

    # Semaphore waits between lanes; the label goes in the free gap next to the waiting lane.
    for from_lane, fx, to_lane, tx, label in arrows:
        fy, ty = y_of(from_lane), y_of(to_lane)
        down = ty < fy
        # From band edge to band edge: the arrows stay clear of the marker labels inside the bands.
        start_y = fy + BAND_LO if down else fy + BAND_HI
        end_y = ty + BAND_HI if down else ty + BAND_LO
        ax.add_patch(FancyArrowPatch((fx, start_y), (tx, end_y), arrowstyle="-|>", mutation_scale=12,
                                     lw=1.4, color=SEMAPHORE_COLOR, shrinkA=0, shrinkB=0, zorder=6))
        wait_labels.setdefault((to_lane, tx, down), []).append(f"{lanes[from_lane]} {label}")
    free_gap = PITCH - BAND_HI + BAND_LO
    for (lane, x, from_above), texts in wait_labels.items():
        y = y_of(lane) + (BAND_HI + min(0.17, free_gap / 2) if from_above else BAND_LO - free_gap / 2)
        ax.text(x + 0.12 * gap, y, "waits: " + ", ".join(texts), fontsize=7, ha="left", va="center",
                color=SEMAPHORE_COLOR, zorder=7, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="#bbbbbb",
                                                           lw=0.5))

    ax.set_yticks([y_of(i) for i in range(n)])
    ax.set_yticklabels([f"{q}\n(family {plan.queues.get(q, {}).get('family', '?')})" for q in lanes], fontsize=9)
    ax.tick_params(axis="y", length=0)
    ax.set_xlabel("estimated GPU time, ms (sync markers not to scale)" if gpu_times_ms else
                  "submission order per queue (each pass one unit; sync commands between passes)", fontsize=9)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if not gpu_times_ms:
        ax.set_xticks([])
    st = plan.stats or {}
    device = plan.options.get("device", "?") if plan.options else "?"
    culled = f" · culled: {', '.join(plan.culled)}" if plan.culled else ""
    ax.set_title(f"{plan.graph} · {plan.strategy} · {device} — {st.get('barrier_calls', 0)} barrier calls, "
                 f"{_n(st.get('events', 0), 'event')}, {_n(st.get('semaphore_waits', 0), 'semaphore wait')}{culled}",
                 fontsize=11)
    used = [q for q in QUEUE_COLORS if any(p.queue == q for p in plan.passes)]
    handles = [Patch(facecolor=queue_color(q), edgecolor="#333333", label=f"{q} pass") for q in used]
    # Only what this picture shows: a legend entry for an absent marker is noise.
    ops = {type(c) for c in plan.commands()}
    owned = any(e.src_queue is not None for c in plan.commands() if isinstance(c, BarrierCmd)
                for e in (*c.dependency.images, *c.dependency.buffers))
    if BarrierCmd in ops:
        handles.append(Patch(facecolor=BARRIER_COLOR, label="pipeline barrier: i/b/m = image/buffer/memory entries"
                             + (", rel/acq = ownership release/acquire" if owned else "")))
    if SetEventCmd in ops:
        handles.append(Line2D([], [], marker="^", ls="", color=SET_COLOR, label="set event (entries)"))
    if WaitEventsCmd in ops:
        handles.append(Line2D([], [], marker="v", ls="--", color=WAIT_COLOR, label="wait events (dashed: from its set)"))
    if ResetEventCmd in ops:
        handles.append(Line2D([], [], marker="x", ls="", color="#888888", label="reset event"))
    if arrows:
        handles.append(Line2D([], [], color=SEMAPHORE_COLOR, lw=1.4, label="semaphore wait on a timeline value"))
    handles.append(Patch(facecolor="#f3f3f3", edgecolor="#c8c8c8", label="one submit"))
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    return fig
