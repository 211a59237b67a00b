"""`python -m framegraph info`: what Vulkan this machine offers and what a context would pick.

Uses a bare instance (no layers, no logical device) so it works even where device creation
would fail; with a live context it reports that context's actual choices instead.
"""
from __future__ import annotations

import os

import vulkan as vk

from . import device as _device
from . import validation as _validation


def _flags(family: _device.QueueFamily) -> str:
    return "|".join(family.flag_names) or "none"


def info_text(ctx=None) -> str:
    lines: list[str] = []
    try:
        loader = _device.version_string(vk.vkEnumerateInstanceVersion())
    except Exception as error:  # a 1.0 loader lacks the entry point
        loader = f"unknown ({error.__class__.__name__})"
    lines.append(f"Vulkan loader: {loader}")
    if os.environ.get("VK_DRIVER_FILES") or os.environ.get("VK_ICD_FILENAMES"):
        lines.append(f"VK_DRIVER_FILES: {os.environ.get('VK_DRIVER_FILES') or os.environ.get('VK_ICD_FILENAMES')}")

    layers = _validation.layer_properties()
    layer_names = [layer.name for layer in layers]

    if ctx is not None and not ctx.destroyed:
        devices = _device.describe_physical_devices(ctx.instance)
        chosen_name = ctx.device_name
        validation, sync = ctx.validation, ctx.sync_validation
        queues = {name: q.family for name, q in ctx.queues.items()}
    else:
        app = vk.VkApplicationInfo(pApplicationName="framegraph-info", apiVersion=_device.API_VERSION)
        instance = vk.vkCreateInstance(vk.VkInstanceCreateInfo(pApplicationInfo=app), None)
        try:
            devices = _device.describe_physical_devices(instance)
        finally:
            vk.vkDestroyInstance(instance, None)
        try:
            chosen = _device.choose_physical_device(devices, None)
            chosen_name = chosen.name
            queues = _device.assign_queue_families(chosen.queue_families)
        except _device.DeviceSelectionError as error:
            chosen_name, queues = None, {}
            lines.append(f"device selection: {error}")
        validation = _validation.validation_requested(None) and _validation.LAYER_NAME in layer_names
        sync = validation

    wanted = _device.requested_device_name(None)
    lines.append(f"Physical devices ({len(devices)}){f'; FRAMEGRAPH_DEVICE={wanted!r}' if wanted else ''}:")
    for d in devices:
        mark = "*" if d.name == chosen_name else " "
        lines.append(f" {mark} {d.name}  type={d.type_name}  api={_device.version_string(d.api_version)}  "
                     f"driver={_device.driver_version_string(d.vendor_id, d.driver_version)}  "
                     f"vendor={d.vendor_id:#06x} device={d.device_id:#06x}")
        for f in d.queue_families:
            lines.append(f"      queue family {f.index}: {_flags(f)} x{f.count}  "
                         f"timestamp_bits={f.timestamp_valid_bits}")
    if queues:
        lines.append("Logical queues: " + ", ".join(f"{name}->family {family}" for name, family in queues.items()))

    lines.append(f"Instance layers ({len(layers)}):")
    for layer in layers:
        lines.append(f"   {layer.name}  spec={_device.version_string(layer.spec_version)}  "
                     f"impl={layer.implementation_version}  {layer.description}")
    lines.append(f"Validation: {'on' if validation else 'off'}"
                 + ("" if validation or _validation.LAYER_NAME in layer_names
                    else f" ({_validation.LAYER_NAME} not installed)")
                 + ("" if _validation.validation_requested(None) else " (FRAMEGRAPH_VALIDATION=0)"))
    lines.append(f"Synchronization validation: {'on' if sync else 'off'}")
    lines += _package_lines()
    return "\n".join(lines)


def _package_lines() -> list[str]:
    """Where framegraph runs from and where it looks for shaders: what a user debugging an install
    (editable checkout or wheel) needs first."""
    import shutil
    from importlib import metadata
    from pathlib import Path

    import framegraph

    from .shaders import ShaderLibrary, cache_dir
    try:
        version = metadata.version("framegraph")
    except metadata.PackageNotFoundError:
        version = "not installed"
    glslc = shutil.which("glslc")
    return [f"framegraph {version} at {Path(framegraph.__file__).resolve().parent}",
            "Shader search path: " + ", ".join(str(f) for f in ShaderLibrary().folders),
            f"glslc: {glslc or 'not found (GLSL sources need it; committed SPIR-V does not)'}; "
            f"shader cache: {cache_dir()}"]


if __name__ == "__main__":
    print(info_text())
