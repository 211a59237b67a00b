"""Transient memory as offset × time: one rectangle per transient resource, spanning the compiled
positions of its first and last use, at its heap offset. Aliased resources share rows. Until a plan
carries placements, resources are stacked one after another (the unaliased layout)."""
from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..plan import Plan
from .explain import size_text

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac")


@dataclass(frozen=True)
class Block:
    name: str
    kind: str
    heap: int | None
    offset: int
    size: int
    first: int
    last: int
    placed: bool       # offset came from the plan (False: stacked here for lack of placement)


def lifetimes(plan: Plan) -> dict[str, tuple[int, int]]:
    """First and last compiled position of every resource a kept pass touches."""
    out: dict[str, tuple[int, int]] = {}
    for pos, p in enumerate(plan.passes):
        for a in p.accesses:
            first = out.get(a.resource, (pos, pos))[0]
            out[a.resource] = (first, pos)
    return out


def blocks(plan: Plan) -> list[Block]:
    lts = lifetimes(plan)
    out, stacked = [], 0
    for r in plan.resources:
        if not r.transient or r.name not in lts:
            continue
        first, last = lts[r.name]
        if r.heap is not None and r.offset is not None:
            out.append(Block(r.name, r.kind, r.heap, r.offset, r.size, first, last, True))
        else:
            out.append(Block(r.name, r.kind, None, stacked, r.size, first, last, False))
            stacked += r.size
    return out


def aliases(bs: list[Block]) -> list[tuple[str, str]]:
    """Pairs of resources placed on overlapping bytes of one heap (at different times)."""
    out = []
    for i, a in enumerate(bs):
        for b in bs[i + 1:]:
            if a.placed and b.placed and a.heap == b.heap and a.offset < b.offset + b.size and \
                    b.offset < a.offset + a.size:
                out.append((a.name, b.name))
    return out


def live_bytes(plan: Plan, bs: list[Block]) -> list[int]:
    live = [0] * max(1, len(plan.passes))
    for b in bs:
        for pos in range(b.first, b.last + 1):
            live[pos] += b.size
    return live


def memory_figure(plan: Plan) -> Figure:
    """A matplotlib Figure (no pyplot state): one panel per heap, offset (y) × pass position (x)."""
    bs = blocks(plan)
    heap_size = {h.get("id"): h.get("size", 0) for h in plan.heaps}
    groups: dict = {}
    for b in bs:
        groups.setdefault(b.heap, []).append(b)
    if not groups:
        groups[None] = []
    keys = sorted(groups, key=lambda k: (k is None, k if k is not None else 0))
    extents = [max([heap_size.get(k, 0)] + [b.offset + b.size for b in groups[k]] + [1]) for k in keys]
    total = sum(extents)
    # Panel heights follow heap sizes, but a small heap still gets room for its labels.
    ratios = [max(e / total, 0.22) for e in extents]
    n = len(plan.passes)
    fig_w = max(9.0, min(18.0, 1.3 * n + 3))
    fig = Figure(figsize=(fig_w, 1.8 + 4.2 * sum(ratios) / max(ratios) * 0.75 + 0.6 * len(keys)), dpi=110,
                 layout="constrained")
    axes = fig.subplots(len(keys), 1, sharex=True, height_ratios=ratios, squeeze=False)[:, 0]
    colour = {b.name: PALETTE[i % len(PALETTE)] for i, b in enumerate(bs)}
    aliased = aliases(bs)
    aliased_names = {x for pair in aliased for x in pair}
    unit, scale = _unit(max(extents))

    for ax, key, extent in zip(axes, keys, extents):
        for b in groups[key]:
            hatch = "//" if b.name in aliased_names else None
            ax.add_patch(Rectangle((b.first - 0.42, b.offset / scale), b.last - b.first + 0.84, b.size / scale,
                                   facecolor=colour[b.name], alpha=0.75, edgecolor="#222222", lw=1, hatch=hatch))
            ax.text((b.first + b.last) / 2, (b.offset + b.size / 2) / scale,
                    f"{b.name}\n{size_text(b.size)}", ha="center", va="center", fontsize=8, clip_on=True,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.7))
        if key in heap_size:
            ax.axhline(heap_size[key] / scale, color="#888888", ls="--", lw=0.8)
        ax.set_ylim(0, extent / scale * 1.04)
        ax.invert_yaxis()      # offset 0 at the top, like a memory map
        what = (f"heap {key} ({size_text(heap_size.get(key, extent))})" if key is not None
                else "not placed: stacked")
        ax.set_ylabel(f"{what}\noffset ({unit})", fontsize=8)
        ax.grid(axis="x", color="#eeeeee")
        ax.set_axisbelow(True)
    axes[-1].set_xlim(-0.6, max(n, 1) - 0.4)
    axes[-1].set_xticks(range(n))
    axes[-1].set_xticklabels([f"{i} {p.name}" for i, p in enumerate(plan.passes)], rotation=30, ha="right",
                             fontsize=8)
    axes[-1].set_xlabel("pass (compiled order)", fontsize=9)

    st = plan.stats or {}
    placed = any(b.placed for b in bs)
    aliased_total = st.get("transient_bytes", sum(b.size for b in bs))
    title = (f"{plan.graph} · {plan.strategy} — transient memory: "
             f"{size_text(aliased_total)} {'placed with aliasing' if placed else 'needed (no placement in plan)'} · "
             f"{size_text(st.get('transient_bytes_unaliased', sum(b.size for b in bs)))} unaliased · "
             f"{size_text(st.get('transient_bytes_lower_bound', max(live_bytes(plan, bs))))} lower bound")
    fig.suptitle(title, fontsize=11)
    if aliased:
        pairs = ", ".join(f"{a}↔{b}" for a, b in aliased[:6]) + (" …" if len(aliased) > 6 else "")
        axes[0].set_title(f"hatched = aliased: shares bytes with another resource at another time ({pairs})",
                          fontsize=8)
    elif placed:
        axes[0].set_title("no two transients share bytes (their lifetimes overlap or aliasing is off)", fontsize=8)
    else:
        axes[0].set_title("the plan has no heap offsets: resources are drawn stacked, as if unaliased", fontsize=8)
    return fig


def _unit(n: int) -> tuple[str, int]:
    if n >= 4 << 20:
        return "MiB", 1 << 20
    if n >= 4 << 10:
        return "KiB", 1 << 10
    return "bytes", 1
