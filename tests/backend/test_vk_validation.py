"""The validation layer is really listening: one known VUID and one known sync hazard on purpose.

Each test drains what it provoked, so the autouse check in conftest stays quiet.
"""
from __future__ import annotations

import pytest

import support  # tests/backend is on sys.path (not a package)

try:
    import vulkan as vk
    from framegraph.backends import vulkan as backend
except (ImportError, OSError) as error:
    support.unavailable(f"the Vulkan loader is missing: {error}")

CANARY_VUID = "VUID-VkBufferCreateInfo-size-00912"


@pytest.fixture
def validating(vk_context):
    if not vk_context.validation:
        support.unavailable("validation is off (FRAMEGRAPH_VALIDATION=0 or no layer)")
    return vk_context


def test_canary_vuid_is_recorded(validating):
    ctx = validating
    # A zero-sized buffer is invalid but harmless: lavapipe creates it and destroys it fine.
    buffer = ctx.create("VkBuffer", vk.VkBufferCreateInfo(
        size=0, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT, sharingMode=vk.VK_SHARING_MODE_EXCLUSIVE),
        name="canary")
    ctx.release(buffer)
    recorded = ctx.messages.drain()
    assert [m.message_id_name for m in recorded] == [CANARY_VUID], recorded
    assert recorded[0].severity == "ERROR" and recorded[0].type == "VALIDATION"
    assert not ctx.messages.records()


def test_sync_validation_reports_a_hazard(validating):
    ctx = validating
    if not ctx.sync_validation:
        support.unavailable("synchronization validation is off")
    color_range = vk.VkImageSubresourceRange(aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT,
                                             levelCount=1, layerCount=1)
    with ctx.scope():
        image = backend.create_image_2d(
            ctx, width=8, height=8, format=vk.VK_FORMAT_R8G8B8A8_UNORM,
            usage=vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT | vk.VK_IMAGE_USAGE_TRANSFER_DST_BIT, name="hazard.image")
        buffer = backend.create_buffer(ctx, size=8 * 8 * 4, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                       name="hazard.buffer")
        # Recorded, not submitted: the hazard is found at record time and nothing racy runs.
        with backend.one_time_commands(ctx, name="hazard", submit=False) as cmd:
            vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[vk.VkImageMemoryBarrier2(
                dstStageMask=vk.VK_PIPELINE_STAGE_2_CLEAR_BIT, dstAccessMask=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
                oldLayout=vk.VK_IMAGE_LAYOUT_UNDEFINED, newLayout=vk.VK_IMAGE_LAYOUT_GENERAL,
                srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
                image=image.handle, subresourceRange=color_range)]))
            vk.vkCmdClearColorImage(cmd, image.handle, vk.VK_IMAGE_LAYOUT_GENERAL,
                                    vk.VkClearColorValue(float32=[1.0, 0.0, 0.0, 1.0]), 1, [color_range])
            # Missing on purpose: CLEAR/TRANSFER_WRITE -> COPY/TRANSFER_READ.
            region = vk.VkBufferImageCopy(
                imageSubresource=vk.VkImageSubresourceLayers(aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT, layerCount=1),
                imageExtent=vk.VkExtent3D(width=8, height=8, depth=1))
            vk.vkCmdCopyImageToBuffer(cmd, image.handle, vk.VK_IMAGE_LAYOUT_GENERAL, buffer.handle, 1, [region])
    recorded = ctx.messages.drain()
    names = [m.message_id_name for m in recorded]
    assert "SYNC-HAZARD-READ-AFTER-WRITE" in names, recorded
    assert all(name.startswith("SYNC-HAZARD-") for name in names), recorded


def test_drain_separates_validation_from_loader_messages(capsys):
    log = backend.MessageLog()
    log.append(backend.Message("WARNING", "Loader Message", "env var set", "GENERAL"))
    log.append(backend.Message("ERROR", "VUID-x", "bad", "VALIDATION"))
    log.append(backend.Message("WARNING", "BestPractices-y", "slow", "PERFORMANCE"))
    assert [m.message_id_name for m in log.drain()] == ["VUID-x"]
    assert len(log) == 0
    printed = capsys.readouterr().err
    assert "env var set" in printed and "slow" in printed
