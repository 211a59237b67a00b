"""The context: device and queue choice, object lifetimes, debug names, the info report."""
from __future__ import annotations

import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from framegraph.backends import vulkan as backend
    from framegraph.backends.vulkan import device as device_mod
    from framegraph.backends.vulkan.info import info_text
except (ImportError, OSError) as error:  # OSError: no libvulkan (conftest errors instead under CI)
    support.unavailable(f"the Vulkan loader is missing: {error}")


@pytest.mark.skipif(not support.EXPECT_VULKAN, reason="a developer's own GPU need not be lavapipe")
def test_device_is_lavapipe_where_expected(vk_context):
    assert "llvmpipe" in vk_context.device_name
    assert vk_context.validation and vk_context.sync_validation, "CI must run with sync validation on"


def test_queues_cover_every_logical_name(vk_context):
    families = {f.index: f for f in vk_context.queue_families}
    assert set(vk_context.queues) == {"graphics", "compute", "transfer"}
    for name, (family, index, handle) in vk_context.queues.items():
        assert family in families and index < families[family].count and handle
    assert families[vk_context.queues["graphics"].family].has(vk.VK_QUEUE_GRAPHICS_BIT)
    assert families[vk_context.queues["compute"].family].has(vk.VK_QUEUE_COMPUTE_BIT)
    if len(families) == 1:  # lavapipe: everything shares the one queue
        assert len({q.handle for q in vk_context.queues.values()}) == 1


def _family(index, flags, count=1):
    return device_mod.QueueFamily(index, flags, count, 64)


G, C, T = vk.VK_QUEUE_GRAPHICS_BIT, vk.VK_QUEUE_COMPUTE_BIT, vk.VK_QUEUE_TRANSFER_BIT


def test_queue_assignment_prefers_dedicated_families():
    # The H100's layout (see VULKAN_NOTES.md).
    h100 = (_family(0, G | C | T, 16), _family(1, T, 2), _family(2, C | T, 8), _family(3, T, 7), _family(4, T))
    assert device_mod.assign_queue_families(h100) == {"graphics": 0, "compute": 2, "transfer": 1}
    lavapipe = (_family(0, G | C | T),)
    assert device_mod.assign_queue_families(lavapipe) == {"graphics": 0, "compute": 0, "transfer": 0}
    with pytest.raises(device_mod.DeviceSelectionError):
        device_mod.assign_queue_families((_family(0, C | T),))


def _device(name, kind):
    return device_mod.PhysicalDeviceInfo(None, name, kind, device_mod.API_VERSION, 0, 0, 0, ())


def test_physical_device_choice(monkeypatch):
    monkeypatch.delenv("FRAMEGRAPH_DEVICE", raising=False)
    cpu = _device("llvmpipe (LLVM 15)", vk.VK_PHYSICAL_DEVICE_TYPE_CPU)
    gpu = _device("NVIDIA H100 80GB HBM3", vk.VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU)
    assert device_mod.choose_physical_device([cpu, gpu], None) is gpu
    assert device_mod.choose_physical_device([cpu], None) is cpu
    assert device_mod.choose_physical_device([cpu, gpu], "LLVMpipe") is cpu
    monkeypatch.setenv("FRAMEGRAPH_DEVICE", "llvm")
    assert device_mod.choose_physical_device([cpu, gpu], None) is cpu
    with pytest.raises(device_mod.DeviceSelectionError, match="no Vulkan device name contains"):
        device_mod.choose_physical_device([cpu, gpu], "radeon")
    with pytest.raises(device_mod.DeviceSelectionError):
        device_mod.choose_physical_device([], None)


def _buffer_info(size=256):
    return vk.VkBufferCreateInfo(size=size, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                 sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE)


def test_scope_and_release_restore_live_counts(vk_context):
    before = vk_context.live_objects()
    with vk_context.scope():
        backend.create_buffer(vk_context, size=1024, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT, name="scoped")
        early = vk_context.create("VkFence", vk.VkFenceCreateInfo(), name="early")
        counts = vk_context.live_objects()
        assert counts["VkBuffer"] == before.get("VkBuffer", 0) + 1
        assert counts["VkDeviceMemory"] == before.get("VkDeviceMemory", 0) + 1
        assert counts["VkFence"] == before.get("VkFence", 0) + 1
        vk_context.release(early)
        assert vk_context.live_count("VkFence") == before.get("VkFence", 0)
    assert vk_context.live_objects() == before


def test_destroy_returns_live_count_to_zero(vk_context):
    # vk_context only gates this test on a working driver; it builds a context of its own.
    with backend.VulkanContext(app_name="lifetimes") as ctx:
        assert ctx.live_objects()["VkDevice"] == 1
        ctx.create("VkBuffer", _buffer_info(), name="leaked-on-purpose")
        pool = ctx.create("VkCommandPool", vk.VkCommandPoolCreateInfo(
            queueFamilyIndex=ctx.queues["graphics"].family), name="pool")
        ctx.allocate_command_buffers(pool, 2, name="cmd")
        assert ctx.live_count("VkCommandBuffer") == 2
    assert ctx.live_count() == 0 and ctx.live_objects() == {}
    assert ctx.destroyed
    ctx.destroy()  # idempotent


def test_labels_and_names_are_accepted(vk_context):
    with backend.one_time_commands(vk_context, name="labelled") as cmd:
        with vk_context.label(cmd, "outer", (1.0, 0.5, 0.0, 1.0)):
            vk_context.debug.insert_label(cmd, "marker")
    buffer = vk_context.create("VkBuffer", _buffer_info(), name="named")
    vk_context.set_name(buffer, "VkBuffer", "renamed")
    vk_context.release(buffer, "VkBuffer")


def test_info_text_reports_device_and_validation(vk_context):
    text = info_text()
    assert vk_context.device_name in text
    assert "queue family 0:" in text
    assert "VK_LAYER_KHRONOS_validation" in text or not vk_context.validation
    live = info_text(vk_context)
    assert f"Synchronization validation: {'on' if vk_context.sync_validation else 'off'}" in live


def test_missing_prerequisites_fail_where_vulkan_is_expected(monkeypatch):
    monkeypatch.setattr(support, "EXPECT_VULKAN", True)
    with pytest.raises(pytest.fail.Exception, match="required here"):
        support.unavailable("glslc is not installed")
    monkeypatch.setattr(support, "EXPECT_VULKAN", False)
    with pytest.raises(pytest.skip.Exception):
        support.unavailable("glslc is not installed")
