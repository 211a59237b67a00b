"""Device profiles: how the logical queues map to queue families and queues, and the memory
facts placement needs. Built-in `lavapipe` and `discrete`, a JSON file, or read from a device.
Profiles are immutable (their queue map is a read-only copy), so a plan cached for one stays right."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from .errors import FrameGraphError, show_value, expect_int, expect_name

QUEUE_NAMES = ("graphics", "compute", "transfer")
MAX_ALIGNMENT = 1 << 30


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSlot:
    family: int
    index: int = 0

    def __post_init__(self):
        object.__setattr__(self, "family", expect_int(self.family, "family", 0, 1 << 31))
        object.__setattr__(self, "index", expect_int(self.index, "index", 0, 1 << 31))


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    name: str
    queues: Mapping = field(default_factory=dict)   # logical queue -> QueueSlot (read-only)
    buffer_image_granularity: int = 1
    buffer_alignment: int = 256
    image_alignment: int = 65536

    def __post_init__(self):
        expect_name(self.name, "name")
        if not isinstance(self.queues, Mapping):
            raise FrameGraphError(f"must map logical queues to QueueSlots, got {show_value(self.queues)}", field="queues")
        for k, v in self.queues.items():
            if k not in QUEUE_NAMES or not isinstance(v, QueueSlot):
                raise FrameGraphError(f"maps {show_value(k)} to {show_value(v)} (want one of {list(QUEUE_NAMES)} -> QueueSlot)",
                                      field="queues")
        if "graphics" not in self.queues:
            raise FrameGraphError("device profile must map the 'graphics' queue", field="queues")
        # A copy behind a read-only view: neither the caller's dict nor anyone holding the profile can
        # change it after a plan was compiled (and cached) for it.
        object.__setattr__(self, "queues", MappingProxyType(dict(self.queues)))
        for key in ("buffer_image_granularity", "buffer_alignment", "image_alignment"):
            value = expect_int(getattr(self, key), key, 1, MAX_ALIGNMENT)
            if value & (value - 1):
                raise FrameGraphError(f"{value} is not a power of two", field=key)
            object.__setattr__(self, key, value)

    def slot(self, queue: str) -> QueueSlot:
        return self.queues.get(queue) or self.queues["graphics"]

    def stream_of(self, queue: str) -> str:
        """The logical queue whose VkQueue this queue runs on (graphics first): queues that share a
        VkQueue form one in-order stream and need no semaphores between them."""
        slot = self.slot(queue)
        for name in ("graphics", "compute", "transfer"):
            if self.queues.get(name) == slot:
                return name
        return queue

    def to_dict(self) -> dict:
        return {"name": self.name,
                "queues": {k: {"family": v.family, "index": v.index} for k, v in self.queues.items()},
                "buffer_image_granularity": self.buffer_image_granularity,
                "buffer_alignment": self.buffer_alignment, "image_alignment": self.image_alignment}


LAVAPIPE = DeviceProfile(name="lavapipe", queues={
    "graphics": QueueSlot(family=0), "compute": QueueSlot(family=0), "transfer": QueueSlot(family=0)})

# The H100's layout (VULKAN_NOTES.md): graphics 0, async compute 2, transfer-only 1.
DISCRETE = DeviceProfile(name="discrete", queues={
    "graphics": QueueSlot(family=0), "compute": QueueSlot(family=2), "transfer": QueueSlot(family=1)},
    buffer_image_granularity=1024)

BUILTIN = {"lavapipe": LAVAPIPE, "discrete": DISCRETE}


def profile_from_dict(d) -> DeviceProfile:
    """A profile from its JSON form (`DeviceProfile.to_dict()`), every field checked."""
    if not isinstance(d, Mapping):
        raise FrameGraphError(f"device profile must be an object, got {show_value(d)}")
    known = {"name", "queues", "buffer_image_granularity", "buffer_alignment", "image_alignment"}
    unknown = sorted(map(str, d.keys() - known))
    if unknown:
        raise FrameGraphError(f"device profile: unknown fields {unknown} (known: {sorted(known)})")
    queues = d.get("queues")
    if not isinstance(queues, Mapping):
        raise FrameGraphError(f"device profile: 'queues' must map queue names to {{\"family\": N}}, got {show_value(queues)}")
    try:
        slots = {}
        for k, v in queues.items():
            if not isinstance(v, Mapping) or "family" not in v or v.keys() - {"family", "index"}:
                raise FrameGraphError(f"must be {{\"family\": N, \"index\": I}}, got {show_value(v)}", field=f"queues.{k}")
            slots[k] = QueueSlot(family=v["family"], index=v.get("index", 0))
        return DeviceProfile(name=d.get("name", "custom"), queues=slots,
                             buffer_image_granularity=d.get("buffer_image_granularity", 1),
                             buffer_alignment=d.get("buffer_alignment", 256),
                             image_alignment=d.get("image_alignment", 65536))
    except FrameGraphError as e:
        raise FrameGraphError(f"malformed device profile: {e}") from None


def resolve_profile(device) -> DeviceProfile:
    """A profile from a DeviceProfile, a built-in name, a JSON file path (str or PathLike), or a
    dict, and nothing else: an int, for one, would reach open() as a file descriptor."""
    if isinstance(device, DeviceProfile):
        return device
    if isinstance(device, Mapping):
        return profile_from_dict(device)
    if isinstance(device, str) and device in BUILTIN:
        return BUILTIN[device]
    if isinstance(device, (str, os.PathLike)):
        from .graph_json import read_json_file   # graph_json imports the declaration layer; load it lazily
        try:
            return profile_from_dict(read_json_file(device, "device profile"))
        except FrameGraphError as e:
            raise FrameGraphError(f"{e} (a device is {' or '.join(BUILTIN)}, a profile JSON file, a dict or a "
                                  "DeviceProfile)") from None
    raise FrameGraphError(f"device= takes a DeviceProfile, a built-in name ({', '.join(BUILTIN)}), a profile "
                          f"JSON path or a dict, got {show_value(device)}")
