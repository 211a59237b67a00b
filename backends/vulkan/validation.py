"""Validation-layer plumbing: one process-wide message log fed by one cffi callback.

Decides which layer/extension/feature structs enable validation (sync validation included),
and that the callback only records; callers decide what a message means by draining the log.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import NamedTuple

import vulkan as vk
from vulkan import ffi

LAYER_NAME = "VK_LAYER_KHRONOS_validation"
DEBUG_UTILS_EXTENSION = "VK_EXT_debug_utils"


def surface_extensions() -> tuple[str, ...]:
    """VK_KHR_surface and the platform surfaces GLFW may ask for (targets.py). Wayland only where a
    compositor is named: Mesa's Wayland WSI complains on stderr about XDG_RUNTIME_DIR otherwise."""
    names = ["VK_KHR_surface", "VK_KHR_xcb_surface", "VK_KHR_xlib_surface", "VK_KHR_win32_surface",
             "VK_EXT_metal_surface"]
    if os.environ.get("WAYLAND_DISPLAY"):
        names.append("VK_KHR_wayland_surface")
    return tuple(names)

_SEVERITY_NAMES = {
    vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_VERBOSE_BIT_EXT: "VERBOSE",
    vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_INFO_BIT_EXT: "INFO",
    vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT: "WARNING",
    vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT: "ERROR",
}
# Tested in this order so a message flagged with several types is filed under the
# one that matters most to us.
_TYPE_NAMES = (
    (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT, "VALIDATION"),
    (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT, "PERFORMANCE"),
    (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT, "GENERAL"),
)

# INFO and VERBOSE are chatty (every object creation) and never indicate a bug.
SEVERITIES = (vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT
              | vk.VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
TYPES = (vk.VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT
         | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT
         | vk.VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT)


class Message(NamedTuple):
    severity: str          # "WARNING" | "ERROR" (| "INFO" | "VERBOSE")
    message_id_name: str   # e.g. "VUID-VkBufferCreateInfo-size-00912", "SYNC-HAZARD-READ-AFTER-WRITE"
    message: str
    type: str              # "VALIDATION" | "PERFORMANCE" | "GENERAL"

    def __str__(self) -> str:
        return f"[{self.type} {self.severity}] {self.message_id_name}: {self.message}"


class MessageLog:
    """The records the debug callback appended, shared by every context of the process.

    The binding keeps a single Python callback per callback type, so contexts cannot
    each own a log; they share this one and drain it after the calls they check.
    """

    def __init__(self) -> None:
        self._records: list[Message] = []
        self._lock = threading.Lock()

    def append(self, record: Message) -> None:
        with self._lock:
            self._records.append(record)

    def records(self) -> list[Message]:
        """A snapshot of everything not yet drained, all types."""
        with self._lock:
            return list(self._records)

    def drain_all(self) -> list[Message]:
        with self._lock:
            records, self._records = self._records, []
        return records

    def drain(self) -> list[Message]:
        """Empty the log; return the VALIDATION warnings/errors and print the rest.

        GENERAL messages come from the loader (e.g. about environment variables) and
        PERFORMANCE ones are advice: neither means our API usage is wrong.
        """
        problems = []
        for record in self.drain_all():
            if record.type == "VALIDATION" and record.severity in ("WARNING", "ERROR"):
                problems.append(record)
            else:
                print(f"framegraph: vulkan: {record}", file=sys.stderr)
        return problems

    def clear(self) -> None:
        self.drain_all()

    def __len__(self) -> int:
        return len(self._records)


MESSAGES = MessageLog()


def _decode(ptr) -> str:
    if ptr == ffi.NULL:
        return ""
    return ffi.string(ptr).decode("utf-8", errors="replace")


def _on_message(severity, types, data, _user_data):
    # An exception here would be printed and swallowed by cffi, and the driver call
    # would carry on as if nothing happened, so this does as little as it can.
    type_name = next((name for bit, name in _TYPE_NAMES if types & bit), "GENERAL")
    MESSAGES.append(Message(_SEVERITY_NAMES.get(severity, str(severity)),
                            _decode(data.pMessageIdName), _decode(data.pMessage), type_name))
    return vk.VK_FALSE


def messenger_create_info(pNext=None):
    """The create info for our messenger; also chained into VkInstanceCreateInfo so that
    vkCreateInstance/vkDestroyInstance themselves are covered."""
    return vk.VkDebugUtilsMessengerCreateInfoEXT(
        pNext=pNext, messageSeverity=SEVERITIES, messageType=TYPES,
        pfnUserCallback=_on_message)


def validation_features(pNext=None, *, sync_validation: bool):
    enables = [vk.VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT] if sync_validation else []
    # The binding drops empty lists, which leaves a valid count of 0.
    return vk.VkValidationFeaturesEXT(pNext=pNext, pEnabledValidationFeatures=enables or None)


def validation_requested(validation: bool | None) -> bool:
    """An explicit argument wins; otherwise on unless FRAMEGRAPH_VALIDATION=0."""
    if validation is not None:
        return validation
    return os.environ.get("FRAMEGRAPH_VALIDATION", "1").strip().lower() not in ("0", "false", "off", "no")


class LayerInfo(NamedTuple):
    name: str
    spec_version: int
    implementation_version: int
    description: str


def layer_properties() -> list[LayerInfo]:
    # The binding's enumerate functions return a generator that alone keeps the
    # property array alive: copy every field out before the generator is dropped.
    return [LayerInfo(layer.layerName, layer.specVersion, layer.implementationVersion, layer.description)
            for layer in vk.vkEnumerateInstanceLayerProperties()]


def available_layers() -> list[str]:
    return [layer.name for layer in layer_properties()]


def available_instance_extensions() -> list[str]:
    return [ext.extensionName for ext in vk.vkEnumerateInstanceExtensionProperties(None)]
