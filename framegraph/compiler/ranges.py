"""Turning sets of subresource units back into the fewest `[base, count]` mip/layer rectangles
and byte ranges that Vulkan barriers and the plan name."""
from __future__ import annotations

from .validate import ResourceInfo


def image_rects(res: ResourceInfo, units) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Units → ((mip_base, mip_count), (layer_base, layer_count)) rectangles."""
    if len(units) == res.unit_count:
        return [((0, res.decl.desc.mips), (0, res.decl.desc.layers))]
    key = (res.index, units if isinstance(units, tuple) else tuple(units))
    rects = _RECTS.get(key)
    if rects is None or rects[0] is not res:
        rects = _RECTS[key] = (res, _image_rects(res, units))
        if len(_RECTS) > 65536:
            _RECTS.clear()
    return rects[1]


# Rectangles per (resource, units): a frame asks for the same few sets again and again. The entry
# keeps its ResourceInfo so another graph's resource of the same index never reuses it.
_RECTS: dict = {}


def _image_rects(res: ResourceInfo, units) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    L = res.decl.desc.layers
    per_mip: dict[int, list[int]] = {}
    for u in sorted(units):
        m, l = divmod(u, L)
        per_mip.setdefault(m, []).append(l)
    runs_of = {m: tuple(_runs(ls)) for m, ls in per_mip.items()}
    rects = []
    mips = sorted(runs_of)
    i = 0
    while i < len(mips):
        j = i
        while j + 1 < len(mips) and mips[j + 1] == mips[j] + 1 and runs_of[mips[j + 1]] == runs_of[mips[i]]:
            j += 1
        for base, count in runs_of[mips[i]]:
            rects.append(((mips[i], j - i + 1), (base, count)))
        i = j + 1
    return rects


def buffer_ranges(res: ResourceInfo, units) -> list[tuple[int, int]]:
    cuts = res.buffer_cuts
    return [(cuts[b], cuts[b + n] - cuts[b]) for b, n in _runs(sorted(units))]


def _runs(sorted_ints):
    runs = []
    for x in sorted_ints:
        if runs and runs[-1][0] + runs[-1][1] == x:
            runs[-1][1] += 1
        else:
            runs.append([x, 1])
    return [(b, n) for b, n in runs]
