"""Device profiles: how the logical queues map to queue families and queues, and the memory
facts placement needs. Built-in `lavapipe` and `discrete`, a JSON file, or read from a device."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import FrameGraphError


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueSlot:
    family: int
    index: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceProfile:
    name: str
    queues: dict = field(default_factory=dict)   # logical queue -> QueueSlot
    buffer_image_granularity: int = 1
    buffer_alignment: int = 256
    image_alignment: int = 65536

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


def profile_from_dict(d: dict) -> DeviceProfile:
    try:
        queues = {k: QueueSlot(family=int(v["family"]), index=int(v.get("index", 0)))
                  for k, v in d["queues"].items()}
        if "graphics" not in queues:
            raise FrameGraphError("device profile must map the 'graphics' queue")
        return DeviceProfile(name=str(d.get("name", "custom")), queues=queues,
                             buffer_image_granularity=int(d.get("buffer_image_granularity", 1)),
                             buffer_alignment=int(d.get("buffer_alignment", 256)),
                             image_alignment=int(d.get("image_alignment", 65536)))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise FrameGraphError(f"malformed device profile: {e!r}") from None


def resolve_profile(device) -> DeviceProfile:
    """A profile from a DeviceProfile, a built-in name, a JSON file path, or a dict."""
    if isinstance(device, DeviceProfile):
        return device
    if isinstance(device, dict):
        return profile_from_dict(device)
    if device in BUILTIN:
        return BUILTIN[device]
    try:
        with open(device) as f:
            return profile_from_dict(json.load(f))
    except OSError as e:
        raise FrameGraphError(f"unknown device profile {device!r} (lavapipe, discrete or a JSON file): {e}")
    except json.JSONDecodeError as e:
        raise FrameGraphError(f"malformed device profile JSON {device!r}: {e}") from None
