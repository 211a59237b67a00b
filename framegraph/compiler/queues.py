"""Stage: map logical queues to streams (distinct VkQueues) through the device profile. Logical
queues sharing one VkQueue (all of them on lavapipe) form one in-order stream."""
from __future__ import annotations

from dataclasses import dataclass

from ..graph import QUEUES
from ..profiles import DeviceProfile
from .validate import ResolvedGraph


@dataclass(frozen=True, slots=True)
class Streams:
    stream_of: dict      # logical queue -> stream name
    family_of: dict      # stream name -> queue family
    slots: dict          # stream name -> {"family", "index"}
    names: list          # streams used, in first-use order


def assign_streams(rg: ResolvedGraph, order: tuple[int, ...], profile: DeviceProfile) -> Streams:
    stream_of = {q: profile.stream_of(q) for q in QUEUES}
    family_of = {}
    slots = {}
    names = []
    for p_index in order:
        s = stream_of[rg.passes[p_index].queue]
        if s not in slots:
            slot = profile.slot(s)
            family_of[s] = slot.family
            slots[s] = {"family": slot.family, "index": slot.index}
            names.append(s)
    if not names:
        slot = profile.slot("graphics")
        family_of["graphics"] = slot.family
        slots["graphics"] = {"family": slot.family, "index": slot.index}
        names.append("graphics")
    return Streams(stream_of, family_of, slots, names)
